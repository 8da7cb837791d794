from django.urls import path

from . import views_associations as assoc
from . import views_services as services

app_name = "integrations"
urlpatterns = [
    path("services/", services.service_list, name="services"),
    path("services/new/", services.register_pick, name="register"),
    path("services/new/<str:service_type>/", services.register, name="register-type"),
    path("services/oauth/return/", services.oauth_return, name="oauth-return"),
    path("services/pending/<str:key>/dismiss/", services.pending_dismiss, name="pending-dismiss"),
    path("services/<str:service_id>/", services.service_detail, name="service"),
    path("services/<str:service_id>/used-by/", services.used_by, name="service-used-by"),
    path("services/<str:service_id>/deregister/", services.deregister, name="deregister"),
    path("services/<str:service_id>/tags/", services.tag_add, name="service-tag-add"),
    path("services/<str:service_id>/tags/remove/", services.tag_remove, name="service-tag-remove"),
    path("spaces/<str:space_id>/associations/", assoc.association_list, name="associations"),
    path("spaces/<str:space_id>/associations/new/", assoc.associate_pick, name="associate"),
    path(
        "spaces/<str:space_id>/associations/new/<str:service_id>/",
        assoc.associate,
        name="associate-service",
    ),
    path(
        "spaces/<str:space_id>/associations/validate/",
        assoc.validate_aws,
        name="validate-aws",
    ),
    path(
        "spaces/<str:space_id>/associations/<str:association_id>/",
        assoc.association_detail,
        name="association",
    ),
    path(
        "spaces/<str:space_id>/associations/<str:association_id>/edit/",
        assoc.association_edit,
        name="association-edit",
    ),
    path(
        "spaces/<str:space_id>/associations/<str:association_id>/delete/",
        assoc.disassociate,
        name="disassociate",
    ),
]
