"""CSV bulk import API (POST /api/v1/posts/import/): a thin view over publishing.services.imports."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from unipulse.api_errors import ApiError, ErrorSerializer, error_body
from unipulse.parsers import MultiPartParser
from unipulse.throttles import WriteRateLimitMixin
from workspaces.access import current_membership

from .services import imports

EXAMPLE_CSV = (
    "text,link,media,accounts,time,first_comment,tiktok_privacy_level\n"
    "Monday coffee,,https://cdn.example.com/coffee.jpg,12 13,2026-12-07T09:00:00+01:00,What's yours?,\n"
    "Our new clip,,video:https://cdn.example.com/clip,14,next slot,,PUBLIC_TO_EVERYONE\n"
)


DESCRIPTION = (
    "Create posts from a CSV, sent as a multipart `file` or as a `text/csv` body (UTF-8). Columns: `accounts` (ids), "
    "`time` (ISO 8601 with an offset, `next slot` or `now`), `text`, `link`, `media` (URLs separated by spaces; "
    "`image:URL`/`video:URL` when the extension does not say), `first_comment`, `instagram_kind`, "
    "`tiktok_privacy_level`, `options` (JSON). Each row is checked exactly like POST /api/v1/posts/; errors name the "
    "row (the header is row 1) and the column. The same file and row never create a second post. Example:\n\n"
    f"```csv\n{EXAMPLE_CSV}```")


class CSVParser(parsers.BaseParser):
    """A text/csv body, read as bytes (at most SCHEDULING_IMPORT_MAX_BYTES + 1: a longer one is a 413)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.SCHEDULING_IMPORT_MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        return {"csv": raw}


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file (UTF-8). A text/csv request body works too.")


class ImportFlagsSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(required=False, default=False)
    all_or_nothing = serializers.BooleanField(required=False, default=False)


class RowPostSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row as a spreadsheet numbers it (the header is row 1).")
    post = serializers.IntegerField(help_text="The post's id (GET /api/v1/posts/{id}/).")


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row as a spreadsheet numbers it (the header is row 1).")
    column = serializers.CharField(help_text="The CSV column to fix; '' for the row as a whole.")
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    file_sha256 = serializers.CharField(help_text="What makes the import idempotent, with each row's number.")
    rows = serializers.IntegerField(help_text="Posts in the file (blank lines are not counted).")
    valid_rows = serializers.IntegerField(help_text="Rows without errors that this file had not created yet.")
    created = RowPostSerializer(many=True, help_text="Created by this request ([] in a dry run).")
    already_imported = RowPostSerializer(many=True, help_text="Created by an earlier request with the same file.")
    errors = RowErrorSerializer(many=True, help_text="Every problem of every row: the same checks as POST /api/v1/posts/.")


class ImportRefusedSerializer(ErrorSerializer):
    report = ImportReportSerializer(required=False, help_text="With `import_invalid` only: every row's errors.")


FLAGS = [
    OpenApiParameter("dry_run", bool, description="true: check every row and create nothing (200 with the report)."),
    OpenApiParameter("all_or_nothing", bool, description=(
        "true: if any row has an error, create nothing (400 `import_invalid` with the report). Default: the valid "
        "rows are created (in one transaction) and the others reported.")),
]


class PostImportView(WriteRateLimitMixin, APIView):
    parser_classes = [MultiPartParser, CSVParser]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer}, parameters=FLAGS, description=DESCRIPTION,
        responses={200: OpenApiResponse(ImportReportSerializer, description=(
            "A dry run, or a run that created nothing new (every row already imported or with errors).")),
            201: OpenApiResponse(ImportReportSerializer, description="Some posts were created."),
            400: OpenApiResponse(ImportRefusedSerializer, description=(
                "`import_invalid` (all_or_nothing and a row has errors; `report` lists them), `invalid_csv` (not UTF-8, "
                "not CSV, unknown or missing columns), `csv_required` (no file).")),
            413: OpenApiResponse(ErrorSerializer, description=(
                "`import_too_large`: over SCHEDULING_IMPORT_MAX_BYTES or SCHEDULING_IMPORT_MAX_ROWS."))})
    def post(self, request):
        flags = ImportFlagsSerializer(data={**request.query_params.dict(), **_form_flags(request)})
        flags.is_valid(raise_exception=True)
        try:
            report = imports.import_posts(current_membership(request), _csv_bytes(request), {"request": request},
                                          **flags.validated_data)
        except imports.ImportRefusedError as refused:
            body = {**error_body(refused.error_code, str(refused.detail)), "report": refused.report}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        created = bool(report["created"])
        return Response(ImportReportSerializer(report).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _form_flags(request) -> dict:
    data = request.data
    return {name: data[name] for name in ("dry_run", "all_or_nothing") if hasattr(data, "getlist") and name in data}


def _csv_bytes(request) -> bytes:
    data = request.data
    if "csv" in data and isinstance(data["csv"], bytes):
        return data["csv"]
    upload = data.get("file") if hasattr(data, "get") else None
    if upload is None or isinstance(upload, str):
        raise ApiError("csv_required", "Send the CSV as a multipart `file`, or as a text/csv request body.", 400,
                       fields={"file": ["No file was sent."]})
    if upload.size > settings.SCHEDULING_IMPORT_MAX_BYTES:
        return upload.read(settings.SCHEDULING_IMPORT_MAX_BYTES + 1)  # read_csv answers the 413
    return upload.read()
