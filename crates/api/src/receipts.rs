//! Receipts of ended sessions: every line of the priced CDR with the tariff version, as JSON and as a
//! printable HTML page in Chinese or English.

use super::ApiState;
use super::auth::{Caller, Viewer};
use super::errors::{ApiError, ApiResult};
use super::extract::Path;
use super::extract::Query;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use chargemesh_core::money::{Amount, Currency};
use chargemesh_core::pricing::{PricedCdr, PricedLine, QuantityUnit};
use chargemesh_operations::billing;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub session_id: i64,
    pub station_id: String,
    pub connector_id: i64,
    pub site: Option<String>,
    #[serde(flatten)]
    pub priced: PricedReceipt,
    /// Where the consortium ledger holds this charge; none while it is not anchored.
    pub ledger: Option<ReceiptAnchor>,
}

/// What every receipt shows of a priced CDR.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PricedReceipt {
    pub time_zone: String,
    /// Local start and stop, e.g. `2026-08-05 09:30:00`.
    pub started: String,
    pub stopped: String,
    pub energy_kwh: String,
    pub tariff_id: String,
    pub tariff_version: u32,
    pub currency: String,
    /// Percent.
    pub tax_rate: String,
    pub prices_include_tax: bool,
    pub lines: Vec<ReceiptLine>,
    pub totals: ReceiptTotals,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceiptAnchor {
    /// The member whose charger it was.
    pub cpo: String,
    pub cdr_id: String,
    pub height: i64,
    /// The hash of this receipt's priced CDR that the ledger holds (hex).
    pub cdr_hash: String,
    /// Where the ledger's record and its inclusion proof are: check it offline with
    /// `chargemesh ledger check-proof`.
    pub proof: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceiptLine {
    /// Local times the line covers, e.g. `09:30–10:00`; empty for a per-session line.
    pub period: String,
    /// `energy`, `service_fee`, `charging_time`, `idle_time`, `flat`, `minimum_price` or `maximum_price`.
    pub kind: String,
    pub label: Option<String>,
    /// With its unit: `30.000 kWh`, `0:45 h`, `1`.
    pub quantity: String,
    pub unit_price: String,
    pub amount_excl_tax: String,
    pub tax: String,
    pub amount_incl_tax: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceiptTotals {
    pub electricity: String,
    pub service: String,
    pub charging_time: String,
    pub idle_time: String,
    pub flat: String,
    pub adjustment: String,
    pub excl_tax: String,
    pub tax: String,
    pub total: String,
}

pub(super) async fn receipt(state: &ApiState, viewer: Viewer, id: &str) -> ApiResult<Receipt> {
    let (session, charger) = super::sessions::visible_session(state, viewer, id).await?;
    let facts = state.operations.session_receipt(&session, &charger).await?;
    let ledger = facts.anchor.zip(state.ledger.as_ref()).map(|((cdr_id, height), ledger)| ReceiptAnchor {
        proof: format!("/api/v1/ledger/cdrs/{}/{cdr_id}", ledger.party_id),
        cpo: ledger.party_id.clone(),
        cdr_id,
        height,
        cdr_hash: hex::encode(chargemesh_ledger::proof::cdr_hash(facts.cdr_body.as_bytes())),
    });
    let zone = billing::session_zone(&session).unwrap_or(TimeZone::UTC);
    Ok(Receipt {
        session_id: session.id,
        station_id: session.station_id.clone(),
        connector_id: session.connector_id,
        site: facts.site_name,
        priced: priced_receipt(&facts.cdr, &zone, session.started_at, session.stopped_at),
        ledger,
    })
}

/// A priced CDR as a receipt shows it, times local to `zone`.
pub(super) fn priced_receipt(
    cdr: &PricedCdr,
    zone: &TimeZone,
    started: Timestamp,
    stopped: Option<Timestamp>,
) -> PricedReceipt {
    let local = |at: Timestamp| at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string();
    let currency = cdr.currency;
    let money = |amount: Amount| currency.format(amount);
    let lines = cdr.lines.iter().map(|line| receipt_line(line, cdr, zone, currency)).collect();
    let totals = &cdr.totals;
    let totals = ReceiptTotals {
        electricity: money(totals.energy),
        service: money(totals.service_fee),
        charging_time: money(totals.charging_time),
        idle_time: money(totals.idle_time),
        flat: money(totals.flat),
        adjustment: money(totals.adjustment),
        excl_tax: money(totals.excl_tax),
        tax: money(totals.tax),
        total: money(totals.incl_tax),
    };
    PricedReceipt {
        time_zone: zone.iana_name().unwrap_or("UTC").to_owned(),
        started: local(started),
        stopped: stopped.map(local).unwrap_or_default(),
        energy_kwh: kwh(cdr.energy.mwh()),
        tariff_id: cdr.tariff_id.clone(),
        tariff_version: cdr.tariff_version,
        currency: currency.code().into(),
        tax_rate: cdr.tax.rate.to_string(),
        prices_include_tax: cdr.tax.included,
        lines,
        totals,
    }
}

fn receipt_line(line: &PricedLine, cdr: &PricedCdr, zone: &TimeZone, currency: Currency) -> ReceiptLine {
    let clock = |at: Timestamp| at.to_zoned(zone.clone()).strftime("%H:%M").to_string();
    let period = line.period.and_then(|i| cdr.periods.get(i)).map(|p| format!("{}–{}", clock(p.start), clock(p.end)));
    let quantity = match line.unit {
        QuantityUnit::MilliwattHours => format!("{} kWh", kwh(line.quantity)),
        QuantityUnit::Milliseconds => {
            let minutes = (line.quantity + 30_000) / 60_000;
            format!("{}:{:02} h", minutes / 60, minutes % 60)
        }
        QuantityUnit::Sessions => line.quantity.to_string(),
    };
    ReceiptLine {
        period: period.unwrap_or_default(),
        kind: line.kind.as_str().into(),
        label: line.label.clone(),
        quantity,
        unit_price: line.unit_price.to_string(),
        amount_excl_tax: currency.format(line.amount_excl_tax),
        tax: currency.format(line.tax),
        amount_incl_tax: currency.format(line.amount_incl_tax),
    }
}

/// Milliwatt-hours as kWh with three decimals (watt-hours), rounded half up.
fn kwh(mwh: i64) -> String {
    let wh = (mwh + 500) / 1000;
    format!("{}.{:03}", wh / 1000, wh % 1000)
}

/// The receipt of an ended session.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/receipt", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 200, body = Receipt), (status = 409, body = super::errors::ErrorBody), (status = 404, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_receipt(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Receipt>> {
    Ok(Json(receipt(&state, Viewer::from(&caller), &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReceiptPageQuery {
    /// `zh` or `en`; by default from the Accept-Language header.
    pub lang: Option<String>,
}

/// The session's priced CDR exactly as saved: the bytes whose hash the ledger holds for an
/// anchored charge (`chargemesh ledger check-proof --cdr`).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/cdr", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/json"), (status = 409, body = super::errors::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_cdr(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (session, _) = super::sessions::visible_session(&state, Viewer::from(&caller), &id).await?;
    let body = state.operations.session_cdr(&session).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The receipt as a printable page, in Chinese or English.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/receipt.html", tag = "sessions", params(("id" = i64, Path), ReceiptPageQuery),
    responses((status = 200, content_type = "text/html"), (status = 409, body = super::errors::ErrorBody)), security(("bearer" = [])))]
pub async fn get_receipt_page(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ReceiptPageQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let language = match query.lang.as_deref() {
        Some("zh") => Language::Chinese,
        Some("en") => Language::English,
        Some(other) => return Err(ApiError::invalid(format!("lang {other:?}: use zh or en"))),
        None => {
            let accepted = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if accepted.trim_start().starts_with("zh") { Language::Chinese } else { Language::English }
        }
    };
    let receipt = receipt(&state, Viewer::from(&caller), &id).await?;
    Ok(Html(render(&receipt, language)).into_response())
}

#[derive(Clone, Copy)]
enum Language {
    Chinese,
    English,
}

impl Language {
    fn text(self, key: &str) -> &'static str {
        let (zh, en) = match key {
            "title" => ("充电结算单", "Charging receipt"),
            "session" => ("订单号", "Session"),
            "station" => ("充电桩", "Charger"),
            "site" => ("站点", "Site"),
            "started" => ("开始时间", "Started"),
            "stopped" => ("结束时间", "Stopped"),
            "energy" => ("充电量", "Energy"),
            "tariff" => ("计费规则", "Tariff"),
            "version" => ("版本", "version"),
            "period" => ("时段", "Period"),
            "item" => ("项目", "Item"),
            "quantity" => ("数量", "Quantity"),
            "unit_price" => ("单价", "Unit price"),
            "excl_tax" => ("不含税金额", "Before tax"),
            "tax" => ("税额", "Tax"),
            "amount" => ("金额", "Amount"),
            "electricity" => ("电费", "Electricity"),
            "service" => ("服务费", "Service fee"),
            "charging_time" => ("充电时长费", "Charging time"),
            "idle_time" => ("占位费", "Idle fee"),
            "flat" => ("单次费用", "Session fee"),
            "adjustment" => ("最低/最高价调整", "Minimum/maximum price adjustment"),
            "total" => ("合计", "Total"),
            "tax_note_included" => ("价格含税，税率", "Prices include tax at"),
            "tax_note_excluded" => ("价格不含税，税率", "Prices exclude tax; tax at"),
            "time_zone" => ("时区", "Time zone"),
            _ => ("", ""),
        };
        match self {
            Language::Chinese => zh,
            Language::English => en,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Language::Chinese => "zh-CN",
            Language::English => "en",
        }
    }

    fn kind(self, kind: &str) -> &'static str {
        match kind {
            "energy" => self.text("electricity"),
            "service_fee" => self.text("service"),
            "charging_time" => self.text("charging_time"),
            "idle_time" => self.text("idle_time"),
            "flat" => self.text("flat"),
            _ => self.text("adjustment"),
        }
    }
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn render(receipt: &Receipt, language: Language) -> String {
    let t = |key| language.text(key);
    let row = |label: &str, value: &str| format!("<tr><th>{}</th><td>{}</td></tr>\n", escape(label), escape(value));
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} #{}</title>\n\
         <style>body{{font-family:sans-serif;max-width:52rem;margin:2rem auto}}table{{border-collapse:collapse;width:100%;margin:1rem 0}}\
         th,td{{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left}}td.n{{text-align:right}}</style></head><body>\n\
         <h1>{}</h1>\n<table>\n",
        language.code(),
        t("title"),
        receipt.session_id,
        t("title")
    );
    page.push_str(&row(t("session"), &receipt.session_id.to_string()));
    page.push_str(&row(t("station"), &format!("{} / {}", receipt.station_id, receipt.connector_id)));
    if let Some(site) = &receipt.site {
        page.push_str(&row(t("site"), site));
    }
    page.push_str(&row(t("started"), &receipt.priced.started));
    page.push_str(&row(t("stopped"), &receipt.priced.stopped));
    page.push_str(&row(t("time_zone"), &receipt.priced.time_zone));
    page.push_str(&row(t("energy"), &format!("{} kWh", receipt.priced.energy_kwh)));
    page.push_str(&row(
        t("tariff"),
        &format!("{} ({} {})", receipt.priced.tariff_id, t("version"), receipt.priced.tariff_version),
    ));
    page.push_str("</table>\n<table>\n<tr>");
    for key in ["period", "item", "quantity", "unit_price", "excl_tax", "tax", "amount"] {
        page.push_str(&format!("<th>{}</th>", escape(t(key))));
    }
    page.push_str("</tr>\n");
    for line in &receipt.priced.lines {
        let item = match &line.label {
            Some(label) => format!("{} ({label})", language.kind(&line.kind)),
            None => language.kind(&line.kind).to_owned(),
        };
        page.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&line.period),
            escape(&item),
            escape(&line.quantity),
            escape(&line.unit_price),
            escape(&line.amount_excl_tax),
            escape(&line.tax),
            escape(&line.amount_incl_tax)
        ));
    }
    page.push_str("</table>\n<table>\n");
    let totals = &receipt.priced.totals;
    for (key, value) in [
        ("electricity", &totals.electricity),
        ("service", &totals.service),
        ("charging_time", &totals.charging_time),
        ("idle_time", &totals.idle_time),
        ("flat", &totals.flat),
        ("adjustment", &totals.adjustment),
        ("excl_tax", &totals.excl_tax),
        ("tax", &totals.tax),
    ] {
        if value.trim_start_matches(['0', '.', '-']).is_empty() && key != "tax" && key != "excl_tax" {
            continue;
        }
        page.push_str(&row(t(key), &format!("{} {value}", receipt.priced.currency)));
    }
    page.push_str(&format!(
        "<tr><th>{}</th><td><strong>{} {}</strong></td></tr>\n</table>\n<p>{} {} %</p>\n</body></html>\n",
        escape(t("total")),
        escape(&receipt.priced.currency),
        escape(&totals.total),
        escape(if receipt.priced.prices_include_tax { t("tax_note_included") } else { t("tax_note_excluded") }),
        escape(&receipt.priced.tax_rate)
    ));
    page
}
