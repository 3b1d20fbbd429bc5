//! Perth & Kinross Council charging sessions (Open Government Licence v3.0: "Contains public sector
//! information licensed under the Open Government Licence v3.0").
//!
//! Columns `_id, CP ID, Connector, Start Date, Start Time, End Date, End Time, Total kWh, Site, Model`.
//! Dates look like ISO (`2017-01-12T00:00:00`) but wherever the day is 12 or less, day and month are
//! swapped (`2017-01-12` is 1 December 2017); the period in the file's name confirms each date. Times
//! are local UK time.

use chargemesh_core::Energy;
use chargemesh_core::energy::EnergyUnit;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Sessions under this are failed starts or tests, not charges.
pub const MIN_ENERGY: Energy = Energy::from_wh(500);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: u64,
    pub charger: String,
    pub connector: u32,
    pub site: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub energy: Energy,
}

/// Why a row was not taken as a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    Malformed,
    NoEnd,
    NoEnergy,
    UnderMinimumEnergy,
    EndsBeforeStart,
    OutsideFilePeriod,
    DuplicateId,
}

#[derive(Debug, Default)]
pub struct Replay {
    pub sessions: Vec<Session>,
    pub refused: BTreeMap<Refusal, usize>,
    /// Dates read with day and month swapped back.
    pub swapped_dates: usize,
}

/// Reads one Perth file, named `perth_YYYY-MM_YYYY-MM.csv` after the months it covers, or that
/// file compressed with gzip (`.csv.gz`).
pub fn read(path: &Path) -> Result<Replay, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(path, file)
}

/// The first Perth file (September 2016 to August 2017), as the repository keeps it, built into
/// the program: for tools that replay real sessions wherever they run.
pub fn bundled() -> Result<Replay, String> {
    const NAME: &str = "perth_2016-09_2017-08.csv.gz";
    parse(Path::new(NAME), &include_bytes!("../../data/perth/perth_2016-09_2017-08.csv.gz")[..])
}

/// Reads a Perth file's content; `path` names it (the months it covers, gzip by `.gz`).
fn parse(path: &Path, file: impl std::io::Read) -> Result<Replay, String> {
    let period = file_period(path)
        .ok_or_else(|| format!("{}: the name does not end in _YYYY-MM_YYYY-MM.csv", path.display()))?;
    let zone = TimeZone::get("Europe/London").map_err(|e| e.to_string())?;
    let input: Box<dyn std::io::Read + '_> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let mut replay = Replay::default();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{}: {e}", path.display()))?;
        match row(&record, period, &zone, &mut replay.swapped_dates) {
            Ok(session) if !seen.insert(session.id) => *replay.refused.entry(Refusal::DuplicateId).or_default() += 1,
            Ok(session) => replay.sessions.push(session),
            Err(refusal) => *replay.refused.entry(refusal).or_default() += 1,
        }
    }
    Ok(replay)
}

fn row(
    record: &csv::StringRecord,
    period: (Date, Date),
    zone: &TimeZone,
    swapped: &mut usize,
) -> Result<Session, Refusal> {
    let field = |i: usize| record.get(i).map(str::trim).unwrap_or("");
    let id = field(0).parse().map_err(|_| Refusal::Malformed)?;
    if field(5).is_empty() || field(6).is_empty() {
        return Err(Refusal::NoEnd);
    }
    if field(7).is_empty() {
        return Err(Refusal::NoEnergy);
    }
    let energy = Energy::parse_reading(field(7), EnergyUnit::KWh).map_err(|_| Refusal::Malformed)?;
    if energy <= Energy::ZERO {
        return Err(Refusal::NoEnergy);
    }
    if energy < MIN_ENERGY {
        return Err(Refusal::UnderMinimumEnergy);
    }
    let (start_date, start_swapped) = date(field(3)).ok_or(Refusal::Malformed)?;
    let (end_date, end_swapped) = date(field(5)).ok_or(Refusal::Malformed)?;
    if start_date < period.0 || start_date > period.1 {
        return Err(Refusal::OutsideFilePeriod);
    }
    *swapped += usize::from(start_swapped) + usize::from(end_swapped);
    let start = local(start_date, field(4), zone).ok_or(Refusal::Malformed)?;
    let end = local(end_date, field(6), zone).ok_or(Refusal::Malformed)?;
    if end <= start {
        return Err(Refusal::EndsBeforeStart);
    }
    Ok(Session {
        id,
        charger: field(1).into(),
        connector: field(2).parse().map_err(|_| Refusal::Malformed)?,
        site: field(8).into(),
        start,
        end,
        energy,
    })
}

/// `YYYY-AA-BBT00:00:00`: month AA and day BB when BB is above 12, otherwise day AA of month BB.
fn date(text: &str) -> Option<(Date, bool)> {
    let day_part = text.split('T').next()?;
    let mut parts = day_part.split('-');
    let (year, a, b): (i16, i8, i8) =
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if b > 12 {
        Date::new(year, a, b).ok().map(|d| (d, false))
    } else {
        Date::new(year, b, a).ok().map(|d| (d, a != b))
    }
}

fn local(date: Date, time: &str, zone: &TimeZone) -> Option<Timestamp> {
    let (hour, minute) = time.split_once(':')?;
    let local: DateTime = date.at(hour.parse().ok()?, minute.parse().ok()?, 0, 0);
    zone.to_ambiguous_timestamp(local).compatible().ok()
}

/// The first and last day of the months named in `perth_2016-09_2017-08.csv`.
fn file_period(path: &Path) -> Option<(Date, Date)> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".gz").unwrap_or(name).strip_suffix(".csv")?;
    let mut parts = stem.rsplitn(3, '_');
    let (last, first) = (parts.next()?, parts.next()?);
    let month = |text: &str| -> Option<Date> {
        let (year, month) = text.split_once('-')?;
        Date::new(year.parse().ok()?, month.parse().ok()?, 1).ok()
    };
    Some((month(first)?, month(last)?.last_of_month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_with_a_day_of_twelve_or_less_are_swapped_back() {
        assert_eq!(date("2017-01-12T00:00:00"), Some((Date::new(2017, 12, 1).unwrap(), true)));
        assert_eq!(date("2017-08-31T00:00:00"), Some((Date::new(2017, 8, 31).unwrap(), false)));
        assert_eq!(date("2017-05-05T00:00:00"), Some((Date::new(2017, 5, 5).unwrap(), false)));
        assert_eq!(date("2017-13-13T00:00:00"), None);
    }

    #[test]
    fn the_file_name_gives_the_period() {
        let period = file_period(Path::new("data/perth_2016-09_2017-08.csv.gz")).unwrap();
        assert_eq!(period, (Date::new(2016, 9, 1).unwrap(), Date::new(2017, 8, 31).unwrap()));
    }
}
