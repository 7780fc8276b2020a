"""What the JSON API takes and gives, as pydantic models: validation.py checks each request
against them and schema.py publishes them in /api/v1/openapi.json, so the two cannot drift.

Bodies are strict JSON (1.5 or "3" is not an integer, a date needs its time zone); queries come
as text and are read as numbers where they are numbers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MAX_ID = 2**31 - 1  # ids and counters are SQL INTEGER columns: a bigger one names nothing
MAX_BYTES = 2**63 - 1  # sizes are BIGINT

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# Text with no NUL: PostgreSQL stores no NUL, and no name, path or password needs one.
Text = Annotated[str, Field(max_length=4096, pattern=r"^[^\x00]*$")]
Role = Literal["uploader", "viewer", "editor", "manager"]


class Body(BaseModel):
    """A JSON request body: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """Query parameters: text read as numbers where a number is asked for."""

    model_config = ConfigDict(extra="ignore")


# Requests


class FolderIn(Body):
    name: Text
    path: Text = ""


class RenameIn(Body):
    name: Text


class MoveIn(Body):
    target: Id
    name: Text | None = None


class GrantIn(Body):
    role: Role
    username: Text | None = None
    department_id: Id | None = None
    include_subdepartments: bool = False


class LinkIn(Body):
    mode: Literal["view", "upload"] = "view"
    password: Text | None = None
    expires_at: AwareDatetime | None = Field(None, description="ISO 8601 with a time zone")
    max_downloads: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None


class ReadIn(Body):
    ids: list[Id] = Field(default_factory=list, max_length=1000)


class UploadIn(Body):
    folder: Id
    name: Text
    path: Text = ""
    size: Annotated[int, Field(ge=0, le=MAX_BYTES)] | None = None
    content_type: Text | None = None


class ChildrenQuery(Query):
    sort: Literal["name", "modified", "size"] = "name"
    desc: Literal["0", "1"] = "0"
    limit: Annotated[int, Field(ge=1, le=5000)] = 500
    offset: Annotated[int, Field(ge=0, le=MAX_ID)] = 0


class SearchQuery(Query):
    q: Text = ""


class SearchEverywhereQuery(Query):
    q: Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")] = ""
    within: Id | None = Field(None, alias="in")
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0


class LiveQuery(Query):
    folder: Id | None = Field(None, description="the folder the page shows")
    versions: Annotated[str, Field(max_length=4000, pattern=r"^[0-9]*(,[0-9]+)*$")] = Field(
        "", description="ids of the versions the page shows as being scanned, comma-separated"
    )


class NotificationsQuery(Query):
    unread: Literal["0", "1"] = "0"
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class FileQuery(Query):
    name: Text
    path: Text = ""


class ContentQuery(Query):
    version: Id | None = None


# Answers


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    department: str
    personal_folder: int
    department_folder: int


class Space(BaseModel):
    id: int
    name: str
    slug: str
    kind: Literal["department", "personal", "project"]
    folder_id: int
    used_bytes: int
    quota_bytes: int | None


class Spaces(BaseModel):
    items: list[Space]


class Notice(BaseModel):
    id: int
    kind: str
    text: str
    node_id: int | None
    version_id: int | None
    params: dict[str, Any]
    created_at: AwareDatetime
    read_at: AwareDatetime | None


class Notices(BaseModel):
    items: list[Notice]


class Version(BaseModel):
    id: int
    number: int
    size: int
    content_type: str | None
    uploaded_at: AwareDatetime
    scan_state: str | None = Field(None, description="only to the person who uploaded it")


class Versions(BaseModel):
    items: list[Version]


class Node(BaseModel):
    """A folder, or a file with the version the person sees."""

    id: int
    name: str
    kind: Literal["folder", "file"]
    parent_id: int | None
    space_id: int
    updated_at: AwareDatetime
    version_id: int | None = None
    number: int | None = None
    size: int | None = None
    content_type: str | None = None
    uploaded_at: AwareDatetime | None = None
    scan_state: str | None = None


class Nodes(BaseModel):
    items: list[Node]


class Hit(Node):
    """A found item with where it is: the space's name, then the folders above it."""

    location: list[str]
    folder_id: int | None  # the folder it is in, when the person may open it


class Hits(BaseModel):
    items: list[Hit]
    more: bool


class Grant(BaseModel):
    id: int
    node_id: int
    role: Role
    user_id: int | None
    department_id: int | None
    include_subdepartments: bool


class Access(Grant):
    inherited_from: int | None


class Accesses(BaseModel):
    items: list[Access]


class Link(BaseModel):
    id: int
    node_id: int
    mode: Literal["view", "upload"]
    password: bool
    expires_at: AwareDatetime | None
    max_downloads: int | None
    download_count: int


class NewLink(Link):
    token: str = Field(description="shown only in this answer")


class Links(BaseModel):
    items: list[Link]


class UploadStarted(BaseModel):
    token: str
    folder: int


class Part(BaseModel):
    number: int
    size: int


class Badge(BaseModel):
    state: str = Field(description="the scan state the person is told ('released': readable)")
    html: str = Field(description="the badge as the folder page shows it")


class Live(BaseModel):
    """What a page shows that changes on its own."""

    unread: int = Field(description="the person's unread notices")
    badges: dict[str, Badge] = Field(
        default_factory=dict, description="by version id: the versions asked about they may read"
    )
    space_use: str | None = Field(None, description="the folder's space use, as the page shows it")


class Parts(BaseModel):
    items: list[Part]


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = Field(None, description="the field refused (invalid input only)")
    reason: str | None = Field(None, description="why it was refused (invalid input only)")


class Error(BaseModel):
    error: ErrorDetail
