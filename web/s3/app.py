"""The S3 endpoint as a WSGI app: verify the signature, find the key's owner, route, reply.

Every request gets exactly one authentication (SigV4 header or presigned URL), verified before
anything else; the owner of the access key is the actor of every service call. A key limited
to read-only or to one space is held to it here, once, for every operation.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from werkzeug.datastructures import EnvironHeaders
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from gshare.access import keys
from gshare.accounts import access_keys
from gshare.core.context import Gshare
from gshare.core.errors import GshareError, NotFound
from gshare.core.models import Space, User
from gshare.ops.health import S3_HEALTH_PATH
from gshare.s3 import view
from web.observe import ACTOR, REQUEST_ID, ROUTE, Observed
from web.s3 import routing
from web.s3.errors import S3Error, error_response, from_gshare, no_such_bucket
from web.s3.payload import Reader, verified_body
from web.s3.sigv4 import AuthContext, authenticate

log = logging.getLogger(__name__)
_DRAIN_LIMIT = 8 * 1024 * 1024


@dataclass
class S3Request:
    """One authenticated request: who, which bucket and key, its query, headers and body."""

    environ: dict
    gshare: object
    method: str
    bucket: str | None
    key: str | None
    query: dict[str, str]
    headers: RequestHeaders
    auth: AuthContext
    holder: access_keys.KeyHolder
    request_id: str
    opened: object = None  # the unit of work the key was found in, for the first one asked

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[tuple[object, User]]:
        """Yield (ctx, actor) for one transaction, committed at the end (rolled back on an
        error). The first is the one the access key was read in: one session and one
        transaction where two were begun (on PostgreSQL, three round trips fewer)."""
        if self.opened is not None:
            ctx, self.opened = self.opened, None
            try:
                yield ctx, self.holder.user  # read in this session: nothing to merge
                ctx.db.commit()
            except BaseException:
                ctx.db.rollback()
                raise
            return
        with self.gshare.unit_of_work(ip=self.environ.get("REMOTE_ADDR")) as ctx:
            yield ctx, ctx.db.merge(self.holder.user, load=False)  # loaded for this request

    def open_bucket(self, ctx, actor: User, name: str | None = None) -> view.Bucket:
        """Return the bucket named (or this request's) as the actor sees it, within key limits."""
        name = name or self.bucket
        found = ctx.extra.get("s3.buckets", {}).get(("space", name))  # read with the key
        return self._bucket(ctx, ("view", name), lambda: view.get_bucket(ctx, actor, name, found))

    def open_space(self, ctx) -> view.Bucket:
        """Return this request's bucket for an object request: its space and root, within key
        limits; the object's own check decides the rest (see S3App._handle)."""
        name = self.bucket
        return self._bucket(ctx, ("space", name), lambda: view.find_space(ctx, name))

    def _bucket(self, ctx, cache_key: tuple[str, str], find) -> view.Bucket:
        opened = ctx.extra.setdefault("s3.buckets", {})  # held: the session's map is weak
        try:
            bucket = opened.get(cache_key) or find()
        except NotFound:
            raise no_such_bucket(cache_key[1]) from None
        opened[cache_key] = bucket
        if not keys.key_allows_space(self.holder.key, bucket.space.id):
            raise S3Error("AccessDenied", "This access key is limited to another space.", 403)
        return bucket

    def sees_bucket(self) -> bool:
        """Tell whether the key's owner sees anything of this request's bucket."""
        try:
            with self.unit_of_work() as (ctx, actor):
                self.open_bucket(ctx, actor)
        except S3Error as error:
            return error.code != "NoSuchBucket"
        return True

    def allowed_space(self, space: Space) -> bool:
        """Tell whether the key may reach this space at all."""
        return keys.key_allows_space(self.holder.key, space.id)

    def body(self, compute=("md5",)) -> Reader:
        """Return the request body, decoded and verified as it is read."""
        self.environ["gshare.s3.body_read"] = True
        return verified_body(
            self.auth, get_input_stream(self.environ), self.headers, compute=compute
        )

    def payload_length(self) -> int | None:
        """Return the length of the decoded body when the client announced it."""
        value = self.headers.get("x-amz-decoded-content-length")
        if value is None and self.auth.payload in ("hex", "unsigned"):
            value = self.headers.get("Content-Length")
        return int(value) if value and value.isdigit() else None


class RequestHeaders(EnvironHeaders):
    """A request's headers, read from its environ as EnvironHeaders reads them and listed
    once: the signature, the checksums, the encryption asked and the stored metadata each go
    through the whole list, and EnvironHeaders rebuilds it from the environ every time."""

    def __init__(self, environ) -> None:
        super().__init__(environ)
        self._listed = tuple(super().__iter__())

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._listed)


class S3App:
    """The WSGI callable of the S3 listener."""

    def __init__(self, config, gshare):
        self.config, self.gshare = config, gshare

    def __call__(self, environ, start_response):
        request_id = environ.get(REQUEST_ID) or uuid.uuid4().hex[:16].upper()
        method = environ["REQUEST_METHOD"].upper()
        raw_path = environ.get("RAW_URI", environ.get("PATH_INFO", "/")).split("?", 1)[0]
        if raw_path == S3_HEALTH_PATH and method in ("GET", "HEAD"):
            environ[ROUTE] = "health"
            return _alive()(environ, start_response)
        try:
            response = self._handle(environ, method, raw_path, request_id)
        except S3Error as error:
            response = self._refused(environ, error, method, raw_path, request_id)
        except GshareError as error:
            bucket, key = split_path(raw_path)
            s3_error = from_gshare(error, bucket, key)
            response = self._refused(environ, s3_error, method, raw_path, request_id)
        except Exception:
            log.exception("S3 request %s failed", request_id)
            error = S3Error("InternalError", "We encountered an internal error.", 500)
            response = self._refused(environ, error, method, raw_path, request_id)
        response.headers.setdefault("x-amz-request-id", request_id)
        return response(environ, start_response)

    def _handle(self, environ, method: str, raw_path: str, request_id: str):
        with self.gshare.unit_of_work(ip=environ.get("REMOTE_ADDR")) as ctx:
            return self._authenticated(ctx, environ, method, raw_path, request_id)

    def _authenticated(self, ctx, environ, method: str, raw_path: str, request_id: str):
        """Verify the request's signature with its key (read in ctx, which the request's
        first unit of work then is) and run it."""
        headers = RequestHeaders(environ)
        query_string = environ.get("QUERY_STRING", "")
        try:
            bucket, key = split_path(raw_path)
        except S3Error:  # said once the signature is checked, as before
            bucket, key = None, None
        holders: dict[str, access_keys.KeyHolder] = {}
        spaces: dict[tuple[str, str], view.Bucket] = ctx.extra.setdefault("s3.buckets", {})
        auth = authenticate(
            method,
            raw_path,
            query_string,
            headers,
            lambda key_id: self._secret_for(ctx.db, key_id, holders, bucket, spaces),
        )
        holder = holders[auth.access_key]
        environ[ACTOR] = holder.user.username
        self._touch(holder)
        bucket, key = split_path(raw_path)
        try:
            query = dict(parse_qsl(query_string, keep_blank_values=True, errors="strict"))
        except UnicodeDecodeError:
            raise S3Error("InvalidURI", "Couldn't parse the specified URI.") from None
        request = S3Request(
            environ, self.gshare, method, bucket, key, query, headers, auth, holder, request_id
        )
        request.opened = ctx
        try:
            return routing.dispatch(request)
        except NotFound:
            if key is not None and not request.sees_bucket():
                raise no_such_bucket(bucket) from None  # object requests open the space only
            raise

    def _secret_for(
        self, db, key_id: str, holders: dict, slug: str | None, spaces: dict
    ) -> str | None:
        """Return the key's secret (the holder goes into holders); with it, the space the
        path names goes into spaces, where open_space finds it (see S3Request._bucket)."""
        if not slug:
            holder = access_keys.find_holder(db, self.config, key_id)
        else:
            holder, joined = access_keys.find_holder_with(
                db, self.config, _KEY_AND_SPACE, {"key_id": key_id, "slug": slug}
            )
            if holder is not None and (found := view.found_space(*joined)) is not None:
                spaces[("space", slug)] = found
        if holder is None:
            return None
        holders[key_id] = holder
        return holder.secret

    def _touch(self, holder: access_keys.KeyHolder) -> None:
        if not access_keys.touch_due(holder.key):
            return  # most requests: no session opened for nothing
        with contextlib.suppress(Exception), self.gshare.sessions() as db:
            if access_keys.touch_key(db, holder.key):
                db.commit()

    def _refused(self, environ, error, method: str, raw_path: str, request_id: str):
        _drain(environ)
        return error_response(error, method, unquote(raw_path), request_id)


# The access key with the space the request's path names: one round trip for both.
_KEY_AND_SPACE = view.with_space(access_keys.LIVE_KEY)


def split_path(raw_path: str) -> tuple[str | None, str | None]:
    """Return (bucket, key) from the raw path, percent-decoded; None where absent."""
    try:
        path = unquote(raw_path, errors="strict").lstrip("/")
    except UnicodeDecodeError:
        raise S3Error("InvalidURI", "Couldn't parse the specified URI.") from None
    bucket, _, key = path.partition("/")
    return bucket or None, key or None


def _drain(environ) -> None:
    """Read what is left of a small refused body, so the connection can serve the next one."""
    length = environ.get("CONTENT_LENGTH", "")
    if environ.get("gshare.s3.body_read"):
        return
    if length.isdigit() and int(length) <= _DRAIN_LIMIT:
        with contextlib.suppress(Exception):
            stream = get_input_stream(environ)
            while stream.read(65536):
                pass


def _alive() -> Response:
    """Answer that this S3 listener is up and serving (the web listener has /healthz)."""
    return Response('{"status": "ok"}', 200, content_type="application/json")


def create_s3_app(config, gshare=None) -> Observed:
    """Build the S3 endpoint's WSGI app for a config (gshare is built from it when None),
    counted and logged per request."""
    return Observed(S3App(config, gshare or Gshare.from_config(config)), "s3")
