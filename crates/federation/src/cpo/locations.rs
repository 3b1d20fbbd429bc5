//! The locations module, CPO side: this node's sites as OCPI `Location`s (sites without
//! coordinates are not published: OCPI requires them), each commissioned charger an `EVSE`, with
//! the live status of its connectors. Lists are paginated and filtered by `last_updated`.

use crate::Federation;
use crate::paging::{self, ListQuery};
use crate::reply;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chargemesh_core::StationId;
use chargemesh_core::charger::ConnectorStatus;
use chargemesh_operations::Outcome;
use chargemesh_protocol::ocpi::locations::{
    BusinessDetails, Connector, ConnectorStandard, Evse, EvseStatus, GeoLocation, Location, PowerType,
};
use chargemesh_protocol::ocpi::{PartyRef, status};
use chargemesh_store::locations::{PublishedCharger, PublishedSite, Which};
use jiff::Timestamp;
use std::sync::Arc;

/// Where other platforms read this node's locations, after the version's URL.
pub(crate) const SENDER: &str = "cpo/locations";

pub async fn list(
    State(federation): State<Arc<Federation>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    match served_locations(&federation, Which::All).await {
        Ok(locations) => paging::page(&federation, SENDER, locations, |l| l.last_updated, query),
        Err(response) => response,
    }
}

pub async fn location(State(federation): State<Arc<Federation>>, Path(location_id): Path<String>) -> Response {
    match find(&federation, &location_id).await {
        Ok(location) => reply::ok(location),
        Err(response) => response,
    }
}

pub async fn evse(
    State(federation): State<Arc<Federation>>,
    Path((location_id, evse_uid)): Path<(String, String)>,
) -> Response {
    let location = match find(&federation, &location_id).await {
        Ok(location) => location,
        Err(response) => return response,
    };
    match location.evses.into_iter().find(|e| e.uid == evse_uid) {
        Some(evse) => reply::ok(evse),
        None => unknown(format!("location {location_id} has no EVSE {evse_uid}")),
    }
}

pub async fn connector(
    State(federation): State<Arc<Federation>>,
    Path((location_id, evse_uid, connector_id)): Path<(String, String, String)>,
) -> Response {
    let location = match find(&federation, &location_id).await {
        Ok(location) => location,
        Err(response) => return response,
    };
    let connector = location
        .evses
        .into_iter()
        .find(|e| e.uid == evse_uid)
        .and_then(|e| e.connectors.into_iter().find(|c| c.id == connector_id));
    match connector {
        Some(connector) => reply::ok(connector),
        None => unknown(format!("location {location_id} has no connector {connector_id} on EVSE {evse_uid}")),
    }
}

fn unknown(message: String) -> Response {
    reply::error(StatusCode::NOT_FOUND, status::UNKNOWN_LOCATION, message)
}

/// Location `location_id` (a site id), read alone.
pub(crate) async fn find(federation: &Federation, location_id: &str) -> Result<Location, Response> {
    let Ok(site) = location_id.parse() else { return Err(unknown(format!("no location {location_id}"))) };
    served_locations(federation, Which::Site(site))
        .await?
        .into_iter()
        .find(|l| l.id == location_id)
        .ok_or_else(|| unknown(format!("no location {location_id}")))
}

/// The published locations `which` names, by site id.
pub(crate) async fn locations(federation: &Federation, which: Which) -> Outcome<Vec<Location>> {
    let sites = federation.operations.published_sites(which).await?;
    let party = federation.party();
    let connected =
        |station: &str| StationId::parse(station).is_ok_and(|id| federation.operations.chargers().is_connected(&id));
    Ok(sites.into_iter().filter_map(|site| location_of(site, &party, &connected)).collect())
}

/// [`locations`], or the OCPI error to answer when they cannot be read.
async fn served_locations(federation: &Federation, which: Which) -> Result<Vec<Location>, Response> {
    locations(federation, which).await.map_err(|e| {
        tracing::error!(error = %e, "cannot read the published locations");
        reply::server_error("the locations cannot be read now; try again")
    })
}

fn location_of(published: PublishedSite, party: &PartyRef, connected: &impl Fn(&str) -> bool) -> Option<Location> {
    let site = published.site;
    let (latitude, longitude) = (site.latitude?, site.longitude?);
    let evses: Vec<Evse> = published.chargers.iter().map(|c| evse_of(c, connected(&c.station_id))).collect();
    let last_updated = evses.iter().map(|e| e.last_updated).fold(site.created_at, Timestamp::max);
    Some(Location {
        country_code: party.country_code.clone(),
        party_id: party.party_id.clone(),
        id: site.id.to_string(),
        publish: true,
        name: Some(site.name),
        address: site.address.unwrap_or_default(),
        city: site.city.unwrap_or_default(),
        country: alpha3(&party.country_code).to_owned(),
        coordinates: GeoLocation { latitude: format!("{latitude:.6}"), longitude: format!("{longitude:.6}") },
        evses,
        time_zone: site.time_zone,
        operator: Some(BusinessDetails { name: published.operator_name }),
        last_updated,
    })
}

fn evse_of(charger: &PublishedCharger, connected: bool) -> Evse {
    let last_updated = charger.statuses.iter().map(|(_, _, at)| *at).fold(charger.commissioned_at, Timestamp::max);
    let statuses: Vec<EvseStatus> = charger
        .statuses
        .iter()
        .map(|(_, status, _)| {
            ConnectorStatus::parse(status).map_or(EvseStatus::Unknown, |s| EvseStatus::of_connector(s, connected))
        })
        .collect();
    // One vehicle at a time: in use if any connector is, else available if any is.
    let status = [EvseStatus::Charging, EvseStatus::Reserved, EvseStatus::Available]
        .into_iter()
        .find(|wanted| statuses.contains(wanted))
        .or_else(|| statuses.first().copied())
        .unwrap_or(EvseStatus::Unknown);
    let connectors = charger
        .connector_types
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let standard = ConnectorStandard::of_ledger_name(name)?;
            let mut connector = connector_of(i + 1, standard, charger.max_power_watts, last_updated);
            connector.tariff_ids.extend(charger.tariff_ids.get(i).cloned().flatten());
            Some(connector)
        })
        .collect();
    Evse {
        uid: charger.station_id.clone(),
        evse_id: Some(charger.evse_id.clone()),
        status,
        capabilities: vec!["REMOTE_START_STOP_CAPABLE".into(), "RESERVABLE".into()],
        connectors,
        last_updated,
    }
}

fn connector_of(id: usize, standard: ConnectorStandard, max_power_watts: i64, last_updated: Timestamp) -> Connector {
    let watts = u64::try_from(max_power_watts).unwrap_or(0);
    let voltage = standard.nominal_voltage();
    // Per phase for three-phase AC: P / (√3 · V), √3 ≈ 1.732.
    let amperes = match standard.power_type() {
        PowerType::Ac3Phase => watts * 1000 / (u64::from(voltage) * 1732),
        _ => watts / u64::from(voltage),
    };
    Connector {
        id: id.to_string(),
        standard,
        format: standard.format(),
        power_type: standard.power_type(),
        max_voltage: voltage,
        max_amperage: u32::try_from(amperes).unwrap_or(u32::MAX),
        max_electric_power: u32::try_from(watts).ok(),
        tariff_ids: Vec::new(),
        last_updated,
    }
}

/// ISO 3166-1 alpha-3 of the alpha-2 codes members come from.
fn alpha3(alpha2: &str) -> &'static str {
    match alpha2 {
        "HK" => "HKG",
        "MO" => "MAC",
        "TW" => "TWN",
        "SG" => "SGP",
        "GB" => "GBR",
        "DE" => "DEU",
        "NL" => "NLD",
        _ => "CHN",
    }
}
