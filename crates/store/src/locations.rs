//! What this node publishes to other platforms as charging locations: its sites with the chargers
//! commissioned at them (not decommissioned), each with its connectors' last status.

use crate::operators::{Site, site};
use crate::{Conn, Result, instant, query};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// A site, its operator's name and its published chargers.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedSite {
    pub site: Site,
    pub operator_name: String,
    pub chargers: Vec<PublishedCharger>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishedCharger {
    pub station_id: String,
    pub evse_id: String,
    pub max_power_watts: i64,
    /// Connector types as the ledger names them, in connector order (connector 1 first).
    pub connector_types: Vec<String>,
    pub commissioned_at: Timestamp,
    /// The last status of each connector that reported one: (connector id, OCPP status, when).
    pub statuses: Vec<(i64, String, Timestamp)>,
    /// The tariff that applies at each connector, in connector order (none: the charger is free).
    pub tariff_ids: Vec<Option<String>>,
}

/// Which published sites to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    All,
    Site(i64),
    /// The site charger `station_id` stands at.
    OfStation(String),
}

/// The sites `which` names that have at least one commissioned charger, by site id.
pub async fn published(conn: &mut Conn, which: Which) -> Result<Vec<PublishedSite>> {
    let (only_site, only_station) = match which {
        Which::All => (None, None),
        Which::Site(id) => (Some(id), None),
        Which::OfStation(station) => (None, Some(station)),
    };
    let rows = query(
        "SELECT s.id, s.operator_id, o.name AS operator_name, s.name, s.time_zone, s.latitude, s.longitude, \
         s.address, s.city, s.created_at, m.station_id, m.evse_id, m.max_power_watts, m.connectors, m.commissioned_at, \
         k.connector_id, k.status, k.status_at \
         FROM sites s JOIN operators o ON o.id = s.operator_id \
         JOIN chargers c ON c.site_id = s.id \
         JOIN charger_commissioning m ON m.station_id = c.station_id AND m.decommissioned_at IS NULL \
         LEFT JOIN connectors k ON k.station_id = m.station_id AND k.connector_id > 0 \
         WHERE ($1 IS NULL OR s.id = $1) AND ($2 IS NULL OR s.id = (SELECT site_id FROM chargers WHERE station_id = $2)) \
         ORDER BY s.id, m.station_id, k.connector_id",
    )
    .bind(only_site)
    .bind(only_station)
    .fetch_all(&mut *conn)
    .await?;
    let assignments = crate::tariffs::assignments(conn).await?;
    let mut sites: BTreeMap<i64, PublishedSite> = BTreeMap::new();
    for row in rows {
        let site_id: i64 = row.try_get("id")?;
        let site = match sites.get_mut(&site_id) {
            Some(site) => site,
            None => {
                let operator_name = row.try_get("operator_name")?;
                sites.entry(site_id).or_insert(PublishedSite { site: site(&row)?, operator_name, chargers: Vec::new() })
            }
        };
        let station_id: String = row.try_get("station_id")?;
        if site.chargers.last().is_none_or(|c| c.station_id != station_id) {
            let connectors: String = row.try_get("connectors")?;
            let connector_types: Vec<String> =
                connectors.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
            let tariff_ids = (1..=connector_types.len() as u32)
                .map(|connector| assignments.applicable(&station_id, connector, site_id).map(str::to_owned))
                .collect();
            site.chargers.push(PublishedCharger {
                station_id,
                evse_id: row.try_get("evse_id")?,
                max_power_watts: row.try_get("max_power_watts")?,
                connector_types,
                commissioned_at: instant(row.try_get("commissioned_at")?)?,
                statuses: Vec::new(),
                tariff_ids,
            });
        }
        let charger = site.chargers.last_mut().expect("pushed above");
        if let Some(connector_id) = row.try_get::<Option<i64>, _>("connector_id")? {
            charger.statuses.push((connector_id, row.try_get("status")?, instant(row.try_get("status_at")?)?));
        }
    }
    Ok(sites.into_values().collect())
}
