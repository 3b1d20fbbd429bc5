//! Sessions and CDRs of other members' drivers, sent to the driver's member: the session while it
//! runs (energy, the power now, and the cost so far), the CDR once the session is priced — each through the
//! outbox, only when it changed, so a restart or a member that was down gets what it lacks.

use super::sent::Sent;
use crate::Federation;
use chargemesh_core::metering::average_power_watts;
use chargemesh_core::pricing::PricedCdr;
use chargemesh_operations::Outcome;
use chargemesh_operations::roaming_cpo::RunningCharge;
use chargemesh_protocol::ocpi::locations::Location;
use chargemesh_protocol::ocpi::sessions::{
    AuthMethod, Cdr, CdrDimension, CdrDimensionType, CdrLocation, CdrToken, ChargingPeriod, Price, Session,
    SessionStatus, number,
};
use chargemesh_protocol::ocpi::tokens::TokenType;
use chargemesh_protocol::ocpi::{PartyRef, VERSION};
use chargemesh_store::federation::RoamingCharge;
use chargemesh_store::locations::Which;
use chargemesh_store::sessions::SessionState;
use jiff::Timestamp;

/// Queues the sessions of other members' drivers updated or priced since `since`, and their CDRs,
/// where they differ from what the driver's member was sent.
pub(crate) async fn publish(federation: &Federation, since: Timestamp, sent: &mut Sent) -> Outcome<()> {
    let operations = &federation.operations;
    let charges = operations.roaming_charges_since(since).await?;
    let party = federation.party();
    // The location of each charger, read once for all its charges.
    let mut locations: Vec<Location> = Vec::new();
    for charge in charges {
        let Some(emsp) = PartyRef::of_member(&charge.emsp) else { continue };
        let at_station = |l: &Location| l.evses.iter().any(|e| e.uid == charge.station_id);
        if !locations.iter().any(at_station) {
            locations
                .extend(super::locations::locations(federation, Which::OfStation(charge.station_id.clone())).await?);
        }
        let Some(location) = locations.iter().find(|l| at_station(l)) else { continue };
        let priced: Option<PricedCdr> = charge.cdr_body.as_deref().and_then(|body| serde_json::from_str(body).ok());
        let running = match charge.state {
            SessionState::Active => operations.roaming_session_readings(charge.session_id).await?,
            _ => RunningCharge::default(),
        };
        // The cost: the CDR's once priced, the cost so far while it runs.
        let cost = priced.as_ref().or(running.cost.as_ref());
        let mut session = session(&charge, &party, &emsp, location, cost);
        session.charging_periods = match &priced {
            Some(priced) => priced_periods(priced),
            None => live_periods(&charge, &running.registers),
        };
        let body = serde_json::to_string(&session).expect("a session serializes");
        let path = format!("/{VERSION}/emsp/sessions/{}/{}/{}", party.country_code, party.party_id, session.id);
        let key = format!("session:{}", charge.session_id);
        sent.queue_if_changed(operations, &charge.emsp, &key, ("PUT", &path, &body)).await?;
        let cdr = match (&priced, &charge.cdr_body) {
            (Some(priced), Some(saved)) => cdr(&charge, session, location, priced, saved),
            _ => None,
        };
        if let Some(cdr) = cdr {
            let body = serde_json::to_string(&cdr).expect("a CDR serializes");
            let path = format!("/{VERSION}/emsp/cdrs");
            sent.queue_if_changed(
                operations,
                &charge.emsp,
                &format!("cdr:{}", charge.session_id),
                ("POST", &path, &body),
            )
            .await?;
        }
    }
    Ok(())
}

fn session(
    charge: &RoamingCharge,
    party: &PartyRef,
    emsp: &PartyRef,
    location: &Location,
    cost: Option<&PricedCdr>,
) -> Session {
    let currency = cost.map_or("CNY", |p| p.currency.code()).to_owned();
    let total_cost = cost.map(|p| Price {
        excl_vat: number(&p.currency.format(p.totals.excl_tax)),
        incl_vat: Some(number(&p.currency.format(p.totals.incl_tax))),
    });
    Session {
        country_code: party.country_code.clone(),
        party_id: party.party_id.clone(),
        id: charge.session_id.to_string(),
        start_date_time: charge.started_at,
        end_date_time: charge.stopped_at,
        kwh: number(&kwh(charge.energy_mwh)),
        cdr_token: CdrToken {
            country_code: emsp.country_code.clone(),
            party_id: emsp.party_id.clone(),
            uid: charge.id_token.clone(),
            kind: TokenType::AppUser,
            contract_id: format!("{}-{}-{}", emsp.country_code, emsp.party_id, charge.id_token),
        },
        auth_method: if charge.authorization_reference.is_some() {
            AuthMethod::Command
        } else {
            AuthMethod::AuthRequest
        },
        authorization_reference: charge.authorization_reference.clone(),
        location_id: location.id.clone(),
        evse_uid: charge.station_id.clone(),
        connector_id: charge.connector_id.to_string(),
        currency,
        total_cost,
        status: if charge.state == SessionState::Completed { SessionStatus::Completed } else { SessionStatus::Active },
        charging_periods: Vec::new(),
        last_updated: charge.updated_at,
    }
}

fn cdr(charge: &RoamingCharge, session: Session, location: &Location, priced: &PricedCdr, saved: &str) -> Option<Cdr> {
    let evse = location.evses.iter().find(|e| e.uid == charge.station_id)?;
    let connector = evse.connectors.iter().find(|c| c.id == session.connector_id).or(evse.connectors.first())?;
    let end = session.end_date_time?;
    let millis = (end.as_millisecond() - session.start_date_time.as_millisecond()).max(0);
    Some(Cdr {
        country_code: session.country_code,
        party_id: session.party_id,
        // The CDR id is the one the ledger anchors it under.
        id: session.id.clone(),
        start_date_time: session.start_date_time,
        end_date_time: end,
        session_id: session.id,
        cdr_token: session.cdr_token,
        auth_method: session.auth_method,
        authorization_reference: session.authorization_reference,
        cdr_location: CdrLocation {
            id: location.id.clone(),
            address: location.address.clone(),
            city: location.city.clone(),
            country: location.country.clone(),
            coordinates: location.coordinates.clone(),
            evse_uid: evse.uid.clone(),
            evse_id: evse.evse_id.clone().unwrap_or_default(),
            connector_id: connector.id.clone(),
            connector_standard: connector.standard,
            connector_format: connector.format,
            connector_power_type: connector.power_type,
        },
        currency: session.currency,
        total_cost: session.total_cost?,
        total_energy: number(&kwh(priced.energy.mwh())),
        total_time: number(&hours(millis)),
        charging_periods: priced_periods(priced),
        chargemesh_cdr: saved.to_owned(),
        last_updated: charge.updated_at,
    })
}

/// A running session's periods: the energy until the latest reading but one, then the energy and
/// average power between the latest two readings of the charger's register (the power now).
fn live_periods(charge: &RoamingCharge, readings: &[(Timestamp, i64)]) -> Vec<ChargingPeriod> {
    let energy = |mwh: i64| CdrDimension { kind: CdrDimensionType::Energy, volume: number(&kwh(mwh)) };
    let power = match readings {
        [latest, earlier, ..] => {
            average_power_watts(*earlier, *latest).map(|watts| (earlier.0, latest.1 - earlier.1, watts))
        }
        _ => None,
    };
    match power {
        Some((since, last_mwh, watts)) if since >= charge.started_at && last_mwh <= charge.energy_mwh => vec![
            ChargingPeriod {
                start_date_time: charge.started_at,
                dimensions: vec![energy(charge.energy_mwh - last_mwh)],
                tariff_id: None,
            },
            ChargingPeriod {
                start_date_time: since,
                dimensions: vec![
                    energy(last_mwh),
                    CdrDimension { kind: CdrDimensionType::Power, volume: number(&kilowatts(watts)) },
                ],
                tariff_id: None,
            },
        ],
        _ => vec![ChargingPeriod {
            start_date_time: charge.started_at,
            dimensions: vec![energy(charge.energy_mwh)],
            tariff_id: None,
        }],
    }
}

/// A priced charge's periods as priced: energy and charging (or parking) time, under its tariff.
fn priced_periods(priced: &PricedCdr) -> Vec<ChargingPeriod> {
    priced
        .periods
        .iter()
        .map(|period| {
            let mut dimensions =
                vec![CdrDimension { kind: CdrDimensionType::Energy, volume: number(&kwh(period.energy.mwh())) }];
            for (kind, millis) in
                [(CdrDimensionType::Time, period.charging_millis), (CdrDimensionType::ParkingTime, period.idle_millis)]
            {
                if millis > 0 {
                    dimensions.push(CdrDimension { kind, volume: number(&hours(millis)) });
                }
            }
            ChargingPeriod { start_date_time: period.start, dimensions, tariff_id: Some(priced.tariff_id.clone()) }
        })
        .collect()
}

/// Watts as kW, exactly.
fn kilowatts(watts: i64) -> String {
    format!("{}.{:03}", watts / 1_000, (watts % 1_000).abs())
}

/// Milliwatt-hours as kWh, exactly (six decimals).
fn kwh(mwh: i64) -> String {
    format!("{}.{:06}", mwh / 1_000_000, (mwh % 1_000_000).abs())
}

/// Milliseconds as hours, to the millisecond (rounded down to seven decimals).
fn hours(millis: i64) -> String {
    let ten_millionths = millis * 100 / 36;
    format!("{}.{:07}", ten_millionths / 10_000_000, ten_millionths % 10_000_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn energy_and_time_are_written_exactly() {
        assert_eq!(super::kwh(12_345_678), "12.345678");
        assert_eq!(super::kwh(999), "0.000999");
        assert_eq!(super::hours(3_600_000), "1.0000000");
        assert_eq!(super::hours(5_400_000), "1.5000000");
        assert_eq!(super::hours(1_000), "0.0002777");
        assert_eq!(super::kilowatts(30_000), "30.000");
        assert_eq!(super::kilowatts(7_250), "7.250");
    }
}
