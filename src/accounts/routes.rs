use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::status::NoContent;
use rocket::{delete, get, patch, post, Route, State};
use rocket_okapi::gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use rocket_okapi::{openapi, openapi_get_routes_spec};
use uuid::Uuid;

use super::model::{Account, AccountCreate, AccountUpdate};
use super::store::{self, UpdateError};
use crate::auth::AuthUser;
use crate::db::Db;
use crate::docs;
use crate::error::{ApiError, ApiResult};
use crate::json::Valid;
use crate::page::{optional_parameter, CursorParam, Cursors, Here, Limit, Paged, Query, LINK};
use crate::reply::{Created, Tagged};

pub fn routes_and_spec() -> (Vec<Route>, OpenApi) {
    let (routes, mut spec) = openapi_get_routes_spec![
        account_list,
        account_create,
        account_view,
        account_update,
        account_delete
    ];
    docs::add_errors(&mut spec, "account_update", &[412]);
    let etag = ("ETag", "The account's version; send it back in `If-Match`.");
    docs::add_headers(
        &mut spec,
        "account_create",
        201,
        &[("Location", "The new account's URL."), etag],
    );
    docs::add_headers(&mut spec, "account_view", 200, &[etag]);
    docs::add_headers(&mut spec, "account_update", 200, &[etag]);
    docs::add_headers(&mut spec, "account_list", 200, &[LINK]);
    (routes, spec)
}

const SCOPE: &str = "accounts";

/// # List accounts
///
/// Newest first.
#[openapi(tag = "accounts")]
#[get("/accounts")]
pub async fn account_list(
    user: AuthUser,
    limit: Query<Limit>,
    cursor: Query<CursorParam>,
    here: Here,
    db: &Db,
    cursors: &State<Cursors>,
) -> ApiResult<Paged<Account>> {
    let after = match &cursor.0 .0 {
        Some(c) => Some(
            Uuid::from_slice(&cursors.decode(SCOPE, c)?)
                .map_err(|_| ApiError::BadRequest("`cursor` is not one this list issued".into()))?,
        ),
        None => None,
    };
    let limit = limit.0 .0;
    let items = store::list(db, user.id, after, limit + 1).await?;
    Ok(Paged::new(items, limit, &here, |a| {
        cursors.encode(SCOPE, a.id.as_bytes())
    }))
}

/// # Create an account
///
/// A non-zero `opening_balance` becomes the account's first movement.
#[openapi(tag = "accounts")]
#[post("/accounts", data = "<body>")]
pub async fn account_create(
    user: AuthUser,
    body: Valid<AccountCreate>,
    db: &Db,
) -> ApiResult<Created<Account>> {
    let account = store::create(db, user.id, &body, crate::time::now()).await?;
    let (location, etag) = (format!("/v1/accounts/{}", account.id), account.etag());
    Ok(Created::new(account).location(location).etag(etag))
}

/// # Show an account
///
/// With its current balance; the `ETag` is what `If-Match` takes.
#[openapi(tag = "accounts")]
#[get("/accounts/<id>")]
pub async fn account_view(user: AuthUser, id: Uuid, db: &Db) -> ApiResult<Tagged<Account>> {
    let account = store::find(db, user.id, id)
        .await?
        .ok_or(ApiError::NotFound("no such account"))?;
    let etag = account.etag();
    Ok(Tagged::new(account).etag(etag))
}

/// The optional `If-Match` header: `*` or a list of strong ETags.
pub struct IfMatch(Option<String>);

impl IfMatch {
    fn accepts(&self, etag: &str) -> bool {
        match &self.0 {
            None => true,
            Some(header) => header
                .split(',')
                .map(str::trim)
                .any(|candidate| candidate == "*" || candidate == etag),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfMatch {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(IfMatch(
            req.headers().get_one("If-Match").map(str::to_owned),
        ))
    }
}

impl<'r> OpenApiFromRequest<'r> for IfMatch {
    fn from_request_input(
        _gen: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::Parameter(optional_parameter(
            "If-Match",
            "header",
            "The `ETag` you last saw; if the account changed since, the answer is 412.",
            serde_json::from_value(serde_json::json!({"type": "string"})).expect("a schema"),
            Some(serde_json::json!("\"0193a5b27c4d7e8f9a0b1c2d3e4f5a6b-3\"")),
        )))
    }
}

/// # Change an account
///
/// Name and kind can change; the currency cannot. Send `If-Match` with the
/// `ETag` you saw to avoid overwriting someone else's change.
#[openapi(tag = "accounts")]
#[patch("/accounts/<id>", data = "<body>")]
pub async fn account_update(
    user: AuthUser,
    id: Uuid,
    if_match: IfMatch,
    body: Valid<AccountUpdate>,
    db: &Db,
) -> ApiResult<Tagged<Account>> {
    let body = body.0;
    let account = store::update(
        db,
        user.id,
        id,
        body.name.as_deref(),
        body.kind,
        |etag| if_match.accepts(etag),
        crate::time::now(),
    )
    .await
    .map_err(|e| match e {
        UpdateError::NotFound => ApiError::NotFound("no such account"),
        UpdateError::Precondition => ApiError::PreconditionFailed,
        UpdateError::Db(e) => e.into(),
    })?;
    let etag = account.etag();
    Ok(Tagged::new(account).etag(etag))
}

/// # Delete an account
///
/// Its movements are deleted with it. The other legs of its transfers stay on
/// their accounts.
#[openapi(tag = "accounts")]
#[delete("/accounts/<id>")]
pub async fn account_delete(user: AuthUser, id: Uuid, db: &Db) -> ApiResult<NoContent> {
    if store::delete(db, user.id, id).await? {
        Ok(NoContent)
    } else {
        Err(ApiError::NotFound("no such account"))
    }
}
