"""The real URLs plus one bare view, so both are measured on the same server in the same run."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from unipulse.urls import urlpatterns as real_urlpatterns


@csrf_exempt
def bare(request):
    return HttpResponse(status=200)


urlpatterns = [path("bench/bare", bare), *real_urlpatterns]
