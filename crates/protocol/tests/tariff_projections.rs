//! Tariffs projected onto the YKC billing model, T/CEC 102 policies and OCPI 2.2.1 tariffs, and what
//! each refuses.

use chargemesh_core::money::{Currency, Price, TaxRate};
use chargemesh_core::tariff::*;
use chargemesh_protocol::tariffs::{ocpi, tcec, ykc};
use jiff::civil::date;
use serde_json::json;

fn guangdong() -> Tariff {
    let preset: TouPreset =
        serde_json::from_str(include_str!("../../sim/data/tariffs/guangdong_tou_2021.json")).unwrap();
    preset.build().unwrap()
}

fn energy_element(start: &str, end: &str, electricity: &str, service: &str) -> TariffElement {
    TariffElement {
        label: None,
        components: vec![
            PriceComponent { kind: ComponentKind::Energy, price: Price::parse(electricity).unwrap() },
            PriceComponent { kind: ComponentKind::ServiceFee, price: Price::parse(service).unwrap() },
        ],
        restrictions: Restrictions {
            start_time: TimeOfDay::parse(start),
            end_time: TimeOfDay::parse(end),
            ..Restrictions::default()
        },
    }
}

fn simple(elements: Vec<TariffElement>) -> Tariff {
    Tariff {
        id: "t".into(),
        version: 1,
        owner: "member-a".into(),
        currency: Currency::CNY,
        tax: Tax { rate: TaxRate::parse_percent("13").unwrap(), included: true },
        valid_from: "2025-01-01T00:00:00Z".parse().unwrap(),
        min_price: None,
        max_price: None,
        elements,
    }
}

#[test]
fn guangdong_in_summer_is_a_four_period_ykc_model() {
    let model = ykc::billing_model(&guangdong(), date(2025, 8, 5), 1, 2).unwrap();
    assert_eq!(model.prices, [(127_500, 80_000), (102_000, 80_000), (60_000, 80_000), (22_800, 80_000)]);
    let mut expected = vec![3u8; 16];
    expected.extend([2, 2, 2, 2, 1, 1, 0, 0, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
    expected.extend([2u8; 10]);
    assert_eq!(model.slots, expected);
    assert_eq!(model.loss_ratio_percent, 2);
}

#[test]
fn outside_summer_the_sharp_prices_are_unused() {
    let model = ykc::billing_model(&guangdong(), date(2025, 10, 14), 2, 0).unwrap();
    assert_eq!(model.prices[0], (0, 0));
    assert_eq!(model.prices[1], (102_000, 80_000));
    assert!(!model.slots.contains(&0));
}

#[test]
fn ykc_refuses_what_it_cannot_hold() {
    let off_grid =
        simple(vec![energy_element("00:00", "10:15", "0.5", "0.8"), energy_element("10:15", "24:00", "1", "0.8")]);
    let error = ykc::billing_model(&off_grid, date(2025, 1, 6), 1, 0).unwrap_err();
    assert!(error.problem.contains("10:15") && error.problem.contains("half-hour"), "{error}");

    let five: Vec<TariffElement> = (0..5)
        .map(|i| {
            energy_element(
                &format!("{:02}:00", i * 4),
                if i == 4 { "24:00" } else { ["04:00", "08:00", "12:00", "16:00"][i] },
                &format!("0.{}", i + 1),
                "0.8",
            )
        })
        .collect();
    let error = ykc::billing_model(&simple(five), date(2025, 1, 6), 1, 0).unwrap_err();
    assert!(error.problem.contains("5 different pairs"), "{error}");

    let mut idle = guangdong();
    idle.elements.push(TariffElement {
        label: None,
        components: vec![PriceComponent { kind: ComponentKind::IdleTime, price: Price::parse("2").unwrap() }],
        restrictions: Restrictions::default(),
    });
    let error = ykc::billing_model(&idle, date(2025, 1, 6), 1, 0).unwrap_err();
    assert_eq!(error.field, format!("elements[{}].components", idle.elements.len() - 1));
    assert!(error.problem.contains("idle_time"));

    let mut dollars = guangdong();
    dollars.currency = Currency::from_code("USD").unwrap();
    assert_eq!(ykc::billing_model(&dollars, date(2025, 1, 6), 1, 0).unwrap_err().field, "currency");

    let precise = simple(vec![energy_element("00:00", "24:00", "0.123456", "0.8")]);
    assert!(ykc::billing_model(&precise, date(2025, 1, 6), 1, 0).unwrap_err().problem.contains("five decimals"));
}

#[test]
fn guangdong_as_tcec_policy_infos() {
    let policy = tcec::business_policy(&guangdong(), date(2025, 8, 5)).unwrap();
    let json = serde_json::to_value(&policy).unwrap();
    assert_eq!(json["SumPeriod"], 9);
    assert_eq!(json["PolicyInfos"][0], json!({"StartTime": "000000", "ElecPrice": 0.228, "SevicePrice": 0.8}));
    assert_eq!(json["PolicyInfos"][3], json!({"StartTime": "110000", "ElecPrice": 1.275, "SevicePrice": 0.8}));

    let precise = simple(vec![energy_element("00:00", "24:00", "0.12345", "0.8")]);
    let error = tcec::business_policy(&precise, date(2025, 1, 6)).unwrap_err();
    assert!(error.problem.contains("four decimals"), "{error}");
}

#[test]
fn ocpi_sends_electricity_and_service_as_one_energy_price_excluding_vat() {
    let mut tariff =
        simple(vec![energy_element("08:00", "22:00", "0.6", "0.8"), energy_element("22:00", "08:00", "0.3", "0.5")]);
    tariff.tax.included = false;
    tariff.elements[1].restrictions.weekdays = Weekday::ALL.to_vec();
    tariff.elements.push(TariffElement {
        label: None,
        components: vec![PriceComponent { kind: ComponentKind::IdleTime, price: Price::parse("3").unwrap() }],
        restrictions: Restrictions { min_duration_seconds: Some(3600), ..Restrictions::default() },
    });
    tariff.max_price = Some(Price::parse("200").unwrap());
    let json = ocpi::tariff(&tariff, "CN", "CMA", "2025-02-01T00:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(
        json["elements"][0]["price_components"][0],
        json!({"type": "ENERGY", "price": 1.4, "vat": 13.0, "step_size": 1})
    );
    assert_eq!(json["elements"][0]["restrictions"], json!({"start_time": "08:00", "end_time": "22:00"}));
    assert_eq!(json["elements"][1]["restrictions"]["day_of_week"][0], "MONDAY");
    assert_eq!(json["elements"][2]["price_components"][0]["type"], "PARKING_TIME");
    assert_eq!(json["elements"][2]["restrictions"], json!({"min_duration": 3600}));
    assert_eq!(json["max_price"], json!({"excl_vat": 200.0, "incl_vat": 226.0}));
    assert_eq!(json["currency"], "CNY");
}

#[test]
fn ocpi_refuses_seasons_inexact_prices_without_tax_and_split_service_fees() {
    let mut seasonal = guangdong();
    seasonal.tax.included = false;
    let error = ocpi::tariff(&seasonal, "CN", "CMA", "2025-02-01T00:00:00Z".parse().unwrap()).unwrap_err();
    assert_eq!(error.field, "elements[0].restrictions.season");

    // 1.40 including 13 % is 1.238938… excluding it.
    let inexact = simple(vec![energy_element("00:00", "24:00", "0.6", "0.8")]);
    let error = ocpi::tariff(&inexact, "CN", "CMA", "2025-02-01T00:00:00Z".parse().unwrap()).unwrap_err();
    assert!(error.problem.contains("no exact price excluding tax"), "{error}");
    // 1.13 including 13 % is exactly 1.
    let exact = simple(vec![energy_element("00:00", "24:00", "0.33", "0.8")]);
    let json = ocpi::tariff(&exact, "CN", "CMA", "2025-02-01T00:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(json["elements"][0]["price_components"][0]["price"], json!(1.0));

    let mut split = simple(vec![energy_element("00:00", "24:00", "0.33", "0.8")]);
    split.elements.insert(
        0,
        TariffElement {
            label: None,
            components: vec![PriceComponent { kind: ComponentKind::Energy, price: Price::parse("0.2").unwrap() }],
            restrictions: Restrictions {
                start_time: TimeOfDay::parse("00:00"),
                end_time: TimeOfDay::parse("06:00"),
                ..Restrictions::default()
            },
        },
    );
    let error = ocpi::tariff(&split, "CN", "CMA", "2025-02-01T00:00:00Z".parse().unwrap()).unwrap_err();
    assert_eq!(error.field, "elements[0].components");
}
