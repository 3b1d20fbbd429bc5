//! Sender lists, as OCPI pages them: `offset` and `limit` (at most [`MAX_PAGE`]), and `date_from`
//! (inclusive) and `date_to` (exclusive) on each object's `last_updated`; the response carries the
//! total, the limit and a `Link` to the next page.

use crate::Federation;
use crate::reply;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::response::Response;
use chargemesh_protocol::ocpi::{Page, date_time};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The most objects one page holds.
const MAX_PAGE: usize = 100;

#[derive(Deserialize)]
pub struct ListQuery {
    offset: Option<usize>,
    limit: Option<usize>,
    date_from: Option<String>,
    date_to: Option<String>,
}

/// The page `query` asks for of `objects` (the whole list of `module`, this node's sender).
pub fn page<T: Serialize>(
    federation: &Federation,
    module: &str,
    objects: Vec<T>,
    last_updated: impl Fn(&T) -> Timestamp,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return reply::invalid("offset and limit are whole numbers; date_from and date_to are OCPI DateTimes");
    };
    let parse = |text: &Option<String>| text.as_deref().map(date_time::parse).transpose();
    let (date_from, date_to) = match (parse(&query.date_from), parse(&query.date_to)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(why), _) | (_, Err(why)) => return reply::invalid(why),
    };
    let selected: Vec<T> = objects
        .into_iter()
        .filter(|o| date_from.is_none_or(|from| last_updated(o) >= from))
        .filter(|o| date_to.is_none_or(|to| last_updated(o) < to))
        .collect();
    let page = Page::new(query.offset, query.limit, MAX_PAGE, selected.len());
    let parameters: Vec<(&str, String)> = [("date_from", query.date_from), ("date_to", query.date_to)]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect();
    let link = page.link(&federation.module_url(module), &parameters);
    reply::page(&selected, &page, link)
}
