"""The board's URL query and the API's documented filter/sort restrictions."""

import datetime as dt

from dashboard.tasks.filters import (
    ALL,
    WHY_NO_PRIORITY_SORT_WITH_DATES,
    WHY_NO_PRIORITY_SORT_WITHOUT_TYPE,
    WHY_PRIORITY_AND_STATUS,
    BoardQuery,
)


def test_it_reads_filters_and_sort_from_the_url():
    q = BoardQuery.from_query(
        {
            "priority": "high",
            "type": "INVESTIGATION",
            "status": "IN_PROGRESS",
            "sort": "PRIORITY",
            "order": "asc",
        }
    )
    assert (q.priority, q.status, q.task_type, q.sort, q.order) == (
        "HIGH",
        "IN_PROGRESS",
        "INVESTIGATION",
        "PRIORITY",
        "ASC",
    )
    assert q.notices == ()
    api = q.api()
    assert api["filter"] == {
        "priority": ["HIGH"],
        "status": ["IN_PROGRESS"],
        "taskType": ["INVESTIGATION"],
    }
    assert (api["sort_field"], api["order"]) == ("PRIORITY", "ASC")


def test_it_drops_status_when_priority_and_status_come_without_a_type():
    q = BoardQuery.from_query({"priority": "HIGH", "status": "IN_PROGRESS"})
    assert q.priority == "HIGH" and q.status == ALL
    assert any(WHY_PRIORITY_AND_STATUS in n for n in q.notices)


def test_it_sorts_by_created_time_when_a_date_range_is_given():
    q = BoardQuery.from_query({"sort": "PRIORITY", "created_after": "2026-11-01", "status": "ALL"})
    assert q.sort == "CREATED_AT"
    assert any(WHY_NO_PRIORITY_SORT_WITH_DATES in n for n in q.notices)
    # Open work is sorted by the console: a date range keeps the priority order.
    open_work = BoardQuery.from_query({"sort": "PRIORITY", "created_after": "2026-11-01"})
    assert open_work.sort == "PRIORITY" and open_work.notices == ()


def test_it_refuses_priority_sort_with_a_status_filter_alone():
    q = BoardQuery.from_query({"sort": "PRIORITY", "status": "COMPLETED"})
    assert q.sort == "CREATED_AT"
    assert any(WHY_NO_PRIORITY_SORT_WITHOUT_TYPE in n for n in q.notices)
    allowed = BoardQuery.from_query(
        {"sort": "PRIORITY", "status": "COMPLETED", "type": "EVALUATION"}
    )
    assert allowed.sort == "PRIORITY" and allowed.notices == ()


def test_it_disables_the_options_that_would_build_a_rejected_request():
    assert BoardQuery.from_query({"priority": "LOW", "status": "ALL"}).disabled() == {
        "one_status": WHY_PRIORITY_AND_STATUS,
        "sort_priority": WHY_NO_PRIORITY_SORT_WITHOUT_TYPE,
    }
    typed = {"priority": "LOW", "type": "INVESTIGATION", "status": "ALL"}
    assert BoardQuery.from_query(typed).disabled() == {}
    assert "dates" in BoardQuery.from_query({"sort": "PRIORITY", "status": "ALL"}).disabled()
    dated = {"created_before": "2026-11-02", "status": "ALL"}
    assert "sort_priority" in BoardQuery.from_query(dated).disabled()
    # Open work: only a single status with a priority and no type is off (the merge allows the
    # rest: its sort is the console's own).
    assert BoardQuery.from_query({"priority": "LOW"}).disabled() == {
        "one_status": WHY_PRIORITY_AND_STATUS
    }
    assert (
        BoardQuery.from_query({"sort": "PRIORITY", "created_after": "2026-11-01"}).disabled() == {}
    )


def test_it_ignores_unknown_values_and_bad_dates_with_a_notice():
    q = BoardQuery.from_query({"priority": "URGENT", "created_after": "yesterday", "order": "up"})
    assert (q.priority, q.created_after, q.order) == ("", "", "DESC")
    assert len(q.notices) == 3


def test_a_date_upper_bound_includes_that_whole_day():
    api = BoardQuery.from_query(
        {"created_after": "2026-11-01", "created_before": "2026-11-02"}
    ).api()
    assert api["filter"]["createdAfter"] == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert api["filter"]["createdBefore"] == dt.datetime(2026, 11, 3, tzinfo=dt.UTC)


def test_the_querystring_round_trips_and_leaves_defaults_out():
    q = BoardQuery.from_query({"status": "FAILED", "order": "ASC"})
    assert q.querystring() == "status=FAILED&order=ASC"
    assert BoardQuery.from_query(dict(p.split("=") for p in q.querystring().split("&"))) == q
    assert BoardQuery().querystring() == ""


def test_linked_tasks_show_in_every_status_unless_one_is_asked_for():
    assert BoardQuery.from_query({"primary": "task-1"}).status == ALL
    assert BoardQuery.from_query({"primary": "task-1", "status": "LINKED"}).status == "LINKED"
    assert BoardQuery.from_query({}).status == "OPEN"


def test_dates_past_the_last_day_a_datetime_holds_are_bad_dates_not_errors():
    for query in (
        {"created_before": "9999-12-31"},
        {"created_after": "9999-12-31T23:00:00-05:00"},
        {"created_after": "0001-01-01T00:00:00+05:00"},
    ):
        q = BoardQuery.from_query(query)
        assert not q.has_dates and len(q.notices) == 1, query
        assert "not a date" in q.notices[0]
        q.api()  # and the request can be built
