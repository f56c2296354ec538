"""The one declaration of every setting: its variable, type, default, bounds and description.

A field's variable is its name in upper case (`listen_port` is LISTEN_PORT). A numbered family such as
GOOGLE_ACCOUNT_<N>_* is one model plus one `numbered(PREFIX)` field of Settings: the variable source
(source.py), the typo checker (typos.py) and the problem mapper (problems.py) all read it from there
(names.py). An account model's `provider` ClassVar makes its family an account family: all of them
share one number space, the N a flow's SOURCE_ACCOUNT_ID and TARGET_ACCOUNT_ID name. A nested model's
fields are variables under the field's name (SOURCE_ACCOUNT_ID), or under none when the field is marked
INLINE (a flow's policy: SYNC_FLOW_<N>_DAYS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import time
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from calmirror.config.calendars import shown_address, spelt
from calmirror.config.fields import (
    INLINE,
    NOT_A_VARIABLE,
    ApiRoot,
    BaseUrl,
    Email,
    FeedUrl,
    LogFormat,
    LogLevel,
    MicrosoftAuth,
    NotPlaceholder,
    Port,
    SecureUrl,
    ServerUrl,
    TimeOfDay,
    Url,
)
from calmirror.config.policy import FlowPolicy
from calmirror.errors import CLIENT_REFUSED, CLIENT_UNKNOWN, WRONG_MAILBOX

DEFAULT_API_ROOT = "https://www.googleapis.com/"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 (an address, not a password)
DEFAULT_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
DEFAULT_GRAPH_ROOT = "https://graph.microsoft.com/v1.0"
DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
# Tenants that name a kind of account rather than one directory: client credentials need a directory
# (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
# The end of every renewal: the daemon reads its credentials only when it starts.
RESTART = "restart calmirror"
SHARED_TENANTS = ("common", "organizations", "consumers")
# Bounds of a reconcile window in days around now: DAILY_RECONCILE_DAYS_* and `sync --days-*` alike.
DAYS_BACK_RANGE = (0, 365)
DAYS_FORWARD_RANGE = (1, 365)
DEFAULT_DAYS_BACK = 2
DEFAULT_DAYS_FORWARD = 14
# The deletion guard (engine/guard.py): DELETION_GUARD_MIN_BLOCKS and DELETION_GUARD_PERCENT.
DEFAULT_GUARD_MIN_BLOCKS = 25
DEFAULT_GUARD_PERCENT = 50
GUARD_PERCENT_RANGE = (0, 99)  # no pass deletes more than all blocks: 100 would hold nothing
MAX_OFFSET_MINUTES = 24 * 60  # a longer margin around a meeting is surely a unit mistake (hours?)
MAX_POLL_MINUTES = 24 * 60
# The calendar services an account can be at.
ProviderName = Literal["google", "caldav", "ics", "microsoft"]


def numbered(prefix: str, empty: Callable[[], Any] | None = None) -> Any:
    """Declare a field holding one model per N of the variables `PREFIX<N>_*` (`empty` builds its default)."""
    if empty is None:
        return Field(json_schema_extra={"numbered": prefix})
    return Field(default_factory=empty, json_schema_extra={"numbered": prefix})


class CalendarRef(BaseModel, frozen=True):
    """A calendar as seen through one configured account."""

    account_id: int = Field(ge=0, description="an account's N", json_schema_extra={"refers_to": "accounts"})
    calendar_id: str = Field(description="a calendar id such as primary or an address")

    def __str__(self) -> str:
        return f"{self.account_id}:{self.calendar_id}"


class GoogleAccount(BaseModel, frozen=True):
    """A Google account calmirror acts as (GOOGLE_ACCOUNT_<N>_*)."""

    provider: ClassVar[Literal["google"]] = "google"
    id: int = Field(json_schema_extra=NOT_A_VARIABLE)
    email: Email = Field(description="the account's Google address")
    client_id: str = Field(description="its OAuth client id, else the shared GOOGLE_CLIENT_ID")
    client_secret: SecretStr = Field(description="its OAuth client secret, else GOOGLE_CLIENT_SECRET")
    refresh_token: SecretStr = Field(description="run `calmirror authorize` to obtain one")
    # True when the client comes from GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET
    shared_client: bool = Field(default=False, json_schema_extra=NOT_A_VARIABLE)

    def renewal(self, reason: str | None = None) -> str:
        """Return what gives the account credentials Google accepts again (a new refresh token)."""
        return (
            f"run `calmirror authorize --email {self.email} --account-number {self.id}`, set the new "
            f"GOOGLE_ACCOUNT_{self.id}_REFRESH_TOKEN and {RESTART}"
        )


PollMinutes = Annotated[int, Field(ge=1, le=MAX_POLL_MINUTES)]


class CalDavAccount(BaseModel, frozen=True):
    """A CalDAV account calmirror acts as (CALDAV_ACCOUNT_<N>_*): iCloud, Fastmail, Nextcloud, ..."""

    provider: ClassVar[Literal["caldav"]] = "caldav"
    id: int = Field(json_schema_extra=NOT_A_VARIABLE)
    url: ServerUrl = Field(description="the server's or principal's address, e.g. https://caldav.icloud.com/")
    username: str = Field(description="the login name, often the address")
    password: SecretStr = Field(description="its (app-specific) password")
    email: Email | None = Field(default=None, description="the owner's address")
    poll_minutes: PollMinutes = Field(default=5, description="minutes between polls of its calendars")

    def renewal(self, reason: str | None = None) -> str:
        """Return what gives the account credentials its server accepts again."""
        return f"create a new app password, set it as CALDAV_ACCOUNT_{self.id}_PASSWORD and {RESTART}"


class IcsAccount(BaseModel, frozen=True):
    """An ICS feed calmirror reads (ICS_ACCOUNT_<N>_*): one calendar, read-only, so only ever a source."""

    provider: ClassVar[Literal["ics"]] = "ics"
    id: int = Field(json_schema_extra=NOT_A_VARIABLE)
    url: FeedUrl = Field(description="the feed's http(s) address; secret, as it often carries a token")
    email: Email | None = Field(default=None, description="the owner's address")
    poll_minutes: PollMinutes = Field(default=15, description="minutes between downloads of the feed")

    def renewal(self, reason: str | None = None) -> str:
        """Return what makes the feed readable again after its server refused the address."""
        return f"set the feed's current secret address as ICS_ACCOUNT_{self.id}_URL and {RESTART}"

    def shown_url(self) -> str:
        """Return the feed's address as it may be shown: scheme and host only (its rest may be a token)."""
        return shown_address(self.url.get_secret_value())


class MicrosoftAccount(BaseModel, frozen=True):
    """A Microsoft 365 or Outlook.com mailbox calmirror acts as through Graph (MICROSOFT_ACCOUNT_<N>_*).

    `delegated` acts as the signed-in user with a refresh token; `app` acts with the app's own
    credentials (client credentials), which need the tenant's id or domain and a client secret.
    """

    provider: ClassVar[Literal["microsoft"]] = "microsoft"
    id: int = Field(json_schema_extra=NOT_A_VARIABLE)
    email: Email = Field(description="the mailbox's address")
    auth: MicrosoftAuth = Field(default="delegated", description="delegated (a user's sign-in) or app")
    client_id: str = Field(description="its app registration's client id, else MICROSOFT_CLIENT_ID")
    # The rules between fields are field validators (validate_default: they run when a field is left
    # out), so that each problem names the variable to fix.
    client_secret: SecretStr | None = Field(
        default=None,
        validate_default=True,
        description="its client secret, else MICROSOFT_CLIENT_SECRET; none for a public client",
    )
    tenant_id: str = Field(
        default="common",
        validate_default=True,
        description="its tenant id or domain, else MICROSOFT_TENANT_ID",
    )
    # True when the app registration comes from MICROSOFT_CLIENT_ID (and its _CLIENT_SECRET)
    shared_client: bool = Field(default=False, json_schema_extra=NOT_A_VARIABLE)
    refresh_token: SecretStr | None = Field(
        default=None,
        validate_default=True,
        description="delegated only: run `calmirror authorize --provider microsoft` to obtain one",
    )

    @field_validator("client_secret", mode="after")
    @classmethod
    def _app_has_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Refuse an app-only account without a client secret: client credentials are the app's secret."""
        if value is None and info.data.get("auth") == "app":
            raise ValueError(
                "missing; AUTH=app signs in with the app registration's client secret "
                "(set it here or as the shared MICROSOFT_CLIENT_SECRET)"
            )
        return value

    @field_validator("tenant_id", mode="after")
    @classmethod
    def _app_has_tenant(cls, value: str, info: ValidationInfo) -> str:
        """Refuse an app-only account in a shared tenant: client credentials need the directory's id."""
        if info.data.get("auth") == "app" and value.lower() in SHARED_TENANTS:
            raise ValueError(
                f"AUTH=app needs the tenant's id or domain (e.g. contoso.onmicrosoft.com), not {value!r}; "
                "set it here or as the shared MICROSOFT_TENANT_ID"
            )
        return value

    @field_validator("refresh_token", mode="after")
    @classmethod
    def _token_fits_auth(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Require a refresh token when delegated and refuse one when app-only (it would go unused)."""
        auth, n, email = info.data.get("auth"), info.data.get("id"), info.data.get("email", "EMAIL")
        if auth == "delegated" and value is None:
            fix = f"run `calmirror authorize --provider microsoft --email {email} --account-number {n}`"
            raise ValueError(f"missing; AUTH=delegated acts as the user through a refresh token: {fix}")
        if auth == "app" and value is not None:
            raise ValueError("AUTH=app signs in with the client secret, never a refresh token: remove it")
        return value

    def renewal(self, reason: str | None = None) -> str:
        """Return what gives the account credentials Microsoft accepts again, for the refusal's `reason`.

        A refused app registration (CLIENT_REFUSED, CLIENT_UNKNOWN) is cured by its variables, never by a
        new sign-in; anything else of a delegated account by a new refresh token.
        """
        prefix = "MICROSOFT_" if self.shared_client else f"MICROSOFT_ACCOUNT_{self.id}_"
        if reason == CLIENT_UNKNOWN:
            return (
                f"correct {prefix}CLIENT_ID: Microsoft knows no application {self.client_id} "
                f"(in tenant {self.tenant_id}), and {RESTART}"
            )
        command = f"calmirror authorize --provider microsoft --email {self.email} --account-number {self.id}"
        if reason == WRONG_MAILBOX:
            return (
                f"MICROSOFT_ACCOUNT_{self.id}_EMAIL={self.email} is not the mailbox its refresh token "
                "signed in as: correct it (`calmirror check-config --online` names that mailbox), or run "
                f"`{command}` signed in as {self.email}, and {RESTART}"
            )
        if reason == CLIENT_REFUSED and self.client_secret is None:
            return (
                f"this app registration needs a client secret: set {prefix}CLIENT_SECRET, or allow public "
                f"client flows in its Authentication settings, and {RESTART}"
            )
        if reason == CLIENT_REFUSED or self.auth == "app":
            consent = "" if reason == CLIENT_REFUSED else " and the admin consent for Calendars.ReadWrite"
            return (
                f"check {prefix}CLIENT_SECRET (Microsoft refuses the app registration's secret; secrets "
                f"expire: create a new one){consent}, and {RESTART}"
            )
        return f"run `{command}`, set the new MICROSOFT_ACCOUNT_{self.id}_REFRESH_TOKEN and {RESTART}"


# Any configured account; `account.provider` says which.
Account: TypeAlias = GoogleAccount | CalDavAccount | IcsAccount | MicrosoftAccount
# The Settings field of each account family (each a numbered() field of Settings below): a new
# provider's family is added here and to Account.
_ACCOUNT_FIELDS: Mapping[str, type[Account]] = MappingProxyType(
    {
        "google_accounts": GoogleAccount,
        "caldav_accounts": CalDavAccount,
        "ics_accounts": IcsAccount,
        "microsoft_accounts": MicrosoftAccount,
    }
)


def _prefix(field: FieldInfo) -> str:
    """Return the variable prefix of a numbered() field, e.g. GOOGLE_ACCOUNT_."""
    extra = field.json_schema_extra
    return str(extra["numbered"]) if isinstance(extra, dict) else ""


def account_clashes(numbers: Mapping[str, Iterable[int]]) -> list[str]:
    """Return one problem per N used by more than one account family; `numbers` maps each prefix to its Ns."""
    users: dict[int, list[str]] = {}
    for prefix, ns in numbers.items():
        for n in ns:
            users.setdefault(n, []).append(f"{prefix}{n}_*")
    return [
        f"{' and '.join(names)}: an account number names one account; renumber one of them"
        for n, names in sorted(users.items())
        if len(names) > 1
    ]


Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET_MINUTES)]


class Flow(BaseModel, frozen=True):
    """One mirror from a source calendar into a target calendar (SYNC_FLOW_<N>_*)."""

    id: int = Field(json_schema_extra=NOT_A_VARIABLE)
    name: str = Field(description="a display name for the flow")
    source: CalendarRef = Field(description="the calendar whose meetings are mirrored")
    target: CalendarRef = Field(description="the calendar the blocks go into")
    start_offset: Offset = Field(default=0, description="minutes the block starts before the meeting")
    end_offset: Offset = Field(default=0, description="minutes the block ends after the meeting")
    min_participants: int = Field(default=2, ge=1, description="fewest participants a mirrored meeting has")
    block_title: str = Field(default="Busy", description="the title of the blocks")
    policy: FlowPolicy = Field(default_factory=FlowPolicy, json_schema_extra=INLINE)


def _share_client(data: dict[str, Any]) -> dict[str, Any]:
    """Give every account with no client of its own the shared GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET."""
    shared = {"client_id": data.get("google_client_id"), "client_secret": data.get("google_client_secret")}
    shared = {field: value for field, value in shared.items() if value is not None}
    accounts = {
        n: {**account, **shared, "shared_client": True}
        if isinstance(account, dict) and not {"client_id", "client_secret"} & account.keys()
        else account
        for n, account in data["google_accounts"].items()
    }
    return {**data, "google_accounts": accounts}


def _share_microsoft_client(data: dict[str, Any]) -> dict[str, Any]:
    """Give every Microsoft account what it does not set itself of MICROSOFT_CLIENT_ID/_SECRET/_TENANT_ID.

    An account with its own client id has its own client: the shared secret belongs to the shared id.
    """
    shared = {
        "client_id": data.get("microsoft_client_id"),
        "client_secret": data.get("microsoft_client_secret"),
        "tenant_id": data.get("microsoft_tenant_id"),
    }

    def resolved(account: Any) -> Any:
        if not isinstance(account, dict):
            return account
        own = "client_id" in account
        inherit = ("tenant_id",) if own else tuple(shared)
        return {
            **{field: shared[field] for field in inherit if shared[field] is not None},
            **account,
            "shared_client": not own,
        }

    accounts = {n: resolved(account) for n, account in data["microsoft_accounts"].items()}
    return {**data, "microsoft_accounts": accounts}


def _spell_calendars(data: dict[str, Any]) -> dict[str, Any]:
    """Spell every flow's calendars the one way their provider does (calendars.py), before validation.

    A calendar of an unknown account is left as written: groups.py reports the unknown account.
    """
    accounts = {
        str(n): (model.provider, account)
        for field, model in _ACCOUNT_FIELDS.items()
        if isinstance(data.get(field), Mapping)
        for n, account in data[field].items()
        if isinstance(account, Mapping)
    }

    def ref(raw: Any) -> Any:
        """Return one raw calendar reference with its calendar id spelt."""
        found = accounts.get(str(raw.get("account_id"))) if isinstance(raw, dict) else None
        if found is None:
            return raw
        calendar_id = spelt(found[0], found[1], raw.get("calendar_id"))
        return raw if calendar_id is None else {**raw, "calendar_id": calendar_id}

    flows = [
        {**flow, **{side: ref(flow[side]) for side in ("source", "target") if side in flow}}
        if isinstance(flow, dict)
        else flow
        for flow in data["flows"]
    ]
    return {**data, "flows": flows}


class Settings(BaseSettings):
    """Everything the daemon needs, validated; `warnings` lists suspicious but runnable settings."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    google_accounts: Mapping[int, GoogleAccount] = numbered("GOOGLE_ACCOUNT_", dict)
    caldav_accounts: Mapping[int, CalDavAccount] = numbered("CALDAV_ACCOUNT_", dict)
    ics_accounts: Mapping[int, IcsAccount] = numbered("ICS_ACCOUNT_", dict)
    microsoft_accounts: Mapping[int, MicrosoftAccount] = numbered("MICROSOFT_ACCOUNT_", dict)
    flows: tuple[Flow, ...] = numbered("SYNC_FLOW_")
    google_client_id: str | None = Field(default=None, description="the shared OAuth client's id")
    google_client_secret: SecretStr | None = Field(default=None, description="the shared client's secret")
    microsoft_client_id: str | None = Field(default=None, description="the shared app registration's id")
    microsoft_client_secret: SecretStr | None = Field(
        default=None, description="the shared app registration's client secret"
    )
    microsoft_tenant_id: str = Field(default="common", description="the shared tenant id or domain")
    sync_interval_minutes: int = Field(
        default=60, ge=1, le=24 * 60, description="minutes between polls of Google calendars"
    )
    daily_reconcile_time: TimeOfDay = Field(default=time(6, 0), description="the daily reconcile, UTC")
    daily_reconcile_days_back: int = Field(
        default=DEFAULT_DAYS_BACK,
        ge=DAYS_BACK_RANGE[0],
        le=DAYS_BACK_RANGE[1],
        description="days before now the daily reconcile covers",
    )
    daily_reconcile_days_forward: int = Field(
        default=DEFAULT_DAYS_FORWARD,
        ge=DAYS_FORWARD_RANGE[0],
        le=DAYS_FORWARD_RANGE[1],
        description="days after now the daily reconcile covers",
    )
    deletion_guard_min_blocks: int = Field(
        default=DEFAULT_GUARD_MIN_BLOCKS, ge=0, description="deletions a pass may always make"
    )
    deletion_guard_percent: int = Field(  # 0: guard off
        default=DEFAULT_GUARD_PERCENT,
        ge=GUARD_PERCENT_RANGE[0],
        le=GUARD_PERCENT_RANGE[1],
        description="the share of a target's blocks beyond which a pass deletes none",
    )
    webhook_base_url: BaseUrl | None = Field(default=None, description="public https:// address")
    webhook_api_key: Annotated[SecretStr | None, NotPlaceholder] = Field(
        default=None, description="the secret channel tokens are derived from"
    )
    log_level: LogLevel = Field(default="INFO", description="the lowest level logged")
    log_format: LogFormat = Field(default="text", description="log lines as text or JSON")
    listen_host: str = Field(default="127.0.0.1", description="address of the HTTP server")
    listen_port: Port = Field(default=8000, description="port of the HTTP server; 0 picks a free one")
    google_api_root_url: ApiRoot = Field(default=DEFAULT_API_ROOT, description="the Calendar API root")
    google_token_uri: Url = Field(default=DEFAULT_TOKEN_URI, description="the OAuth token endpoint")
    google_auth_uri: Url = Field(default=DEFAULT_AUTH_URI, description="read by `calmirror authorize` only")
    microsoft_graph_root_url: SecureUrl = Field(default=DEFAULT_GRAPH_ROOT, description="the Graph API root")
    microsoft_login_url: SecureUrl = Field(
        default=DEFAULT_LOGIN_URL, description="the Microsoft identity platform's sign-in address"
    )
    warnings: tuple[str, ...] = Field(default=(), json_schema_extra=NOT_A_VARIABLE)

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, data: Any) -> Any:
        """Apply the shared-client fallback and spell every flow's calendars one way, before validation."""
        if not isinstance(data, dict):
            return data
        if isinstance(data.get("google_accounts"), Mapping):
            data = _share_client(data)
        if isinstance(data.get("microsoft_accounts"), Mapping):
            data = _share_microsoft_client(data)
        return _spell_calendars(data) if isinstance(data.get("flows"), list | tuple) else data

    @model_validator(mode="after")
    def _one_number_space(self) -> Settings:
        """Refuse an N two account families use: a flow's account id must name one account."""
        fields = type(self).model_fields
        numbers = {_prefix(fields[field]): getattr(self, field).keys() for field in _ACCOUNT_FIELDS}
        clashes = account_clashes(numbers)
        if clashes:
            raise ValueError(clashes[0])
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read only the arguments; load_settings() passes what the variable source (source.py) read.

        pydantic-settings' own environment, dotenv and secrets-directory sources know neither systemd's
        precedence, nor .env line numbers, nor numbered families; and built directly (tests, the demo),
        Settings must not pick up whatever the process environment or a stray .env holds.
        """
        return (init_settings,)

    @property
    def accounts(self) -> Mapping[int, Account]:
        """Return every account of every provider by its N, in N order."""
        merged: dict[int, Account] = {
            n: a for field in _ACCOUNT_FIELDS for n, a in getattr(self, field).items()
        }
        return MappingProxyType(dict(sorted(merged.items())))

    def account(self, account_id: int) -> Account:
        """Return the account with this id, of any provider; KeyError when there is none."""
        return self.accounts[account_id]

    def targets(self) -> tuple[CalendarRef, ...]:
        """Return every distinct target calendar, in flow order."""
        return tuple(dict.fromkeys(flow.target for flow in self.flows))

    def flows_into(self, target: CalendarRef) -> tuple[Flow, ...]:
        """Return the flows whose target is this calendar, in flow order."""
        return tuple(flow for flow in self.flows if flow.target == target)

    def flows_from(self, source: CalendarRef) -> tuple[Flow, ...]:
        """Return the flows whose source is this calendar, in flow order."""
        return tuple(flow for flow in self.flows if flow.source == source)

    def secrets(self) -> tuple[str, ...]:
        """Return every secret value (client secrets, tokens, passwords, feed URLs, webhook key) to redact."""
        values = [self.webhook_api_key] if self.webhook_api_key else []
        for account in self.google_accounts.values():
            values += [account.client_secret, account.refresh_token]
        values += [account.password for account in self.caldav_accounts.values()]
        values += [account.url for account in self.ics_accounts.values()]
        for microsoft in self.microsoft_accounts.values():
            values += [value for value in (microsoft.client_secret, microsoft.refresh_token) if value]
        values += [self.microsoft_client_secret] if self.microsoft_client_secret else []
        return tuple(dict.fromkeys(v.get_secret_value() for v in values if v.get_secret_value()))
