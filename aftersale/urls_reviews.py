"""Console URLs of reviews (/reviews/)."""
from django.urls import path

from aftersale import views_reviews

app_name = "reviews"
urlpatterns = [
    path("", views_reviews.review_list_view, name="list"),
    path("<int:review_id>/reply/", views_reviews.review_reply_view, name="reply"),
    path("<int:review_id>/report/", views_reviews.review_report_view, name="report"),
]
