use super::*;

fn rejection(action: &str, payload: Value) -> RpcError {
    decode_call(action, payload).unwrap_err().error
}

#[test]
fn decodes_a_start_transaction() {
    let event = decode_call(
        "StartTransaction",
        json!({"connectorId": 1, "idTag": "CARD1", "meterStart": 1500, "timestamp": "2024-05-01T08:00:00Z"}),
    )
    .unwrap();
    let ChargerEvent::TransactionStarted(start) = event else { panic!("{event:?}") };
    assert_eq!(start.meter_start, Energy::from_wh(1500));
    assert_eq!(start.id_token.as_str(), "CARD1");
}

#[test]
fn meter_values_default_to_the_energy_register_in_wh() {
    let event = decode_call(
        "MeterValues",
        json!({"connectorId": 1, "transactionId": 7, "meterValue": [
            {"timestamp": "2024-05-01T08:05:00Z", "sampledValue": [{"value": "1700"}, {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"}]}
        ]}),
    )
    .unwrap();
    let ChargerEvent::MeterValues(report) = event else { panic!() };
    assert_eq!(report.transaction, Some(TransactionRef::Node(7)));
    assert_eq!(report.samples[0].measurand, "Energy.Active.Import.Register");
    assert_eq!(report.samples[0].unit, "Wh");
    assert_eq!(report.samples[0].location, "Outlet");
    assert_eq!(report.samples[1].unit, "kW");
}

#[test]
fn payload_errors_use_the_1_6_codes() {
    assert_eq!(rejection("Authorize", json!({})), RpcError::OccurrenceConstraintViolation);
    assert_eq!(rejection("Authorize", json!({"idTag": 12})), RpcError::TypeConstraintViolation);
    assert_eq!(rejection("Authorize", json!({"idTag": "x".repeat(21)})), RpcError::PropertyConstraintViolation);
    assert_eq!(
        rejection("StatusNotification", json!({"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"})),
        RpcError::PropertyConstraintViolation
    );
    assert_eq!(
        rejection("StartTransaction", json!({"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "soon"})),
        RpcError::TypeConstraintViolation
    );
    assert_eq!(
        rejection(
            "MeterValues",
            json!({"connectorId": 1, "meterValue": [{"timestamp": "2024-05-01T08:05:00Z", "sampledValue": [{"value": "1", "unit": "parsecs"}]}]})
        ),
        RpcError::PropertyConstraintViolation
    );
    assert_eq!(rejection("Teleport", json!({})), RpcError::NotImplemented);
    assert_eq!(rejection("RemoteStartTransaction", json!({"idTag": "A"})), RpcError::NotSupported);
}

#[test]
fn status_without_error_has_no_error_code() {
    let ChargerEvent::StatusChanged(report) =
        decode_call("StatusNotification", json!({"connectorId": 2, "errorCode": "NoError", "status": "SuspendedEV"}))
            .unwrap()
    else {
        panic!()
    };
    assert_eq!((report.connector, report.status, report.error_code), (2, ConnectorStatus::SuspendedEv, None));
    let ChargerEvent::StatusChanged(report) =
        decode_call("StatusNotification", json!({"connectorId": 0, "errorCode": "GroundFailure", "status": "Faulted"}))
            .unwrap()
    else {
        panic!()
    };
    assert_eq!(report.error_code.as_deref(), Some("GroundFailure"));
}

#[test]
fn encodes_replies() {
    let at: jiff::Timestamp = "2024-05-01T08:00:00Z".parse().unwrap();
    let reply = ChargerReply::Boot { registration: Registration::Pending, interval_seconds: 300, current_time: at };
    assert_eq!(
        encode_reply(&reply),
        json!({"status": "Pending", "currentTime": "2024-05-01T08:00:00Z", "interval": 300})
    );
    let started = ChargerReply::TransactionStarted {
        transaction_id: 42,
        authorization: Authorization { status: AuthorizationStatus::Accepted, expires_at: None, parent_id_token: None },
    };
    assert_eq!(encode_reply(&started), json!({"transactionId": 42, "idTagInfo": {"status": "Accepted"}}));
}

#[test]
fn encodes_commands_and_decodes_their_results() {
    let cmd = ChargerCommand::RemoteStart { connector: Some(1), id_token: IdToken::parse("APP7").unwrap() };
    assert_eq!(encode_command(&cmd), ("RemoteStartTransaction", json!({"idTag": "APP7", "connectorId": 1})));
    assert_eq!(
        decode_command_result(&cmd, json!({"status": "Accepted"})),
        Ok(CommandOutcome::Status { status: "Accepted".into() })
    );
    let get = ChargerCommand::GetConfiguration { keys: vec![] };
    assert_eq!(encode_command(&get), ("GetConfiguration", json!({})));
    let outcome = decode_command_result(
        &get,
        json!({"configurationKey": [{"key": "HeartbeatInterval", "readonly": false, "value": "300"}], "unknownKey": []}),
    )
    .unwrap();
    assert!(matches!(outcome, CommandOutcome::Configuration { known, .. } if known[0].key == "HeartbeatInterval"));
    assert!(validate_command(&ChargerCommand::RemoteStop { transaction_id: 1 << 40 }).is_err());
    let expiry: jiff::Timestamp = "2026-11-30T04:15:00Z".parse().unwrap();
    let reserve = ChargerCommand::ReserveNow {
        connector: 1,
        expiry,
        id_token: IdToken::parse("APP7").unwrap(),
        reservation_id: 12,
    };
    let body = json!({"connectorId": 1, "expiryDate": "2026-11-30T04:15:00Z", "idTag": "APP7", "reservationId": 12});
    assert_eq!(encode_command(&reserve), ("ReserveNow", body));
    assert_eq!(
        decode_command_result(&reserve, json!({"status": "Occupied"})),
        Ok(CommandOutcome::Status { status: "Occupied".into() })
    );
    let too_big = ChargerCommand::CancelReservation { reservation_id: 1 << 40 };
    assert!(validate_command(&too_big).is_err());
    let cancel = ChargerCommand::CancelReservation { reservation_id: 12 };
    assert_eq!(encode_command(&cancel), ("CancelReservation", json!({"reservationId": 12})));
}
