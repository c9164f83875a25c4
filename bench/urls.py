from django.http import HttpRequest, HttpResponse
from django.urls import path


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("pong", content_type="text/plain")


urlpatterns = [path("ping", ping)]
