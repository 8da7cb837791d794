def test_it_lists_spaces_for_a_viewer(viewer_client, space):
    response = viewer_client.get("/spaces/")
    assert response.status_code == 200
    assert b"Payments" in response.content
