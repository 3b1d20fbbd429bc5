//! Readers for the public datasets in `shared/data`: real charging sessions to replay and real
//! time-of-use tariffs. Each reader copes with the traps documented beside the data and says which
//! rows it refused and why, instead of guessing.

pub mod acn_tariffs;
pub mod perth;

use chargemesh_core::tariff::TouPreset;

/// Shenzhen's public charging stations (UrbanEV), as the repository keeps them, built into the
/// program: `station_id,longitude,latitude,…` with a header row.
pub const SHENZHEN_STATIONS_CSV: &str = include_str!("../../data/stations/shenzhen_urbanev_stations.csv");

/// Guangdong's 2021 time-of-use shape with illustrative prices (a fixture, not a current price
/// list): peak 10–12 and 14–19, flat 8–10, 12–14 and 19–24, valley 0–8; sharp 11–12 and 15–17 from
/// July to September at peak × 1.25; a service fee of 0.80 per kWh; VAT 13 % included.
pub fn guangdong_tou() -> TouPreset {
    serde_json::from_str(include_str!("../../data/tariffs/guangdong_tou_2021.json"))
        .expect("the fixture is a valid preset")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_guangdong_fixture_builds_a_tariff() {
        super::guangdong_tou().build().expect("the fixture builds");
    }

    #[test]
    fn the_bundled_perth_sessions_read() {
        let replay = super::perth::bundled().expect("the bundled file reads");
        assert!(replay.sessions.len() > 1_000, "{} sessions", replay.sessions.len());
    }
}
