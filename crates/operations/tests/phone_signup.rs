//! Signing up and logging in with a phone number and a one-time code, against a real (SQLite) store;
//! the SMS provider is the one thing replaced: a phone that keeps what it is sent.

use chargemesh_core::phone::PhoneNumber;
use chargemesh_gateway::{GatewayConfig, Registry};
use chargemesh_operations::clock::{Clock, ManualClock};
use chargemesh_operations::config::PaymentsConfig;
use chargemesh_operations::payments::SandboxProvider;
use chargemesh_operations::phone_signup::{CodeLogin, CodeRequest, TextMessages};
use chargemesh_operations::{Error, Operations, Settings};
use chargemesh_store::{Store, operators, tokens};
use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What each number was sent, in order.
#[derive(Default)]
struct Phones(Mutex<Vec<(String, String)>>);

impl TextMessages for Phones {
    fn send<'a>(&'a self, to: &'a PhoneNumber, text: &'a str) -> BoxFuture<'a, Result<(), String>> {
        self.0.lock().unwrap().push((to.to_string(), text.to_owned()));
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Phones {
    /// The six digits of the last message to `phone`.
    fn last_code(&self, phone: &str) -> String {
        let sent = self.0.lock().unwrap();
        let (_, text) = sent.iter().rev().find(|(to, _)| to == phone).expect("a message was sent");
        let start = text.find(|c: char| c.is_ascii_digit()).unwrap();
        text[start..start + 6].to_owned()
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

struct Setup {
    operations: Operations,
    store: Store,
    phones: Arc<Phones>,
    clock: Arc<ManualClock>,
}

async fn setup() -> Setup {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "chargemesh-phone-signup-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.join("node.db").display()), 2).await.unwrap();
    let settings = Settings::new(&GatewayConfig::default(), &PaymentsConfig::default());
    let provider = Arc::new(SandboxProvider::new(store.clone()));
    let phones = Arc::new(Phones::default());
    let clock = Arc::new(ManualClock::at("2026-12-06T08:00:00Z".parse().unwrap()));
    let operations = Operations::new(store.clone(), settings, Arc::new(Registry::default()), provider)
        .with_clock(clock.clone())
        .with_text_messages(phones.clone());
    Setup { operations, store, phones, clock }
}

async fn operator(store: &Store, name: &'static str) -> i64 {
    let now = Timestamp::now();
    store.write(move |tx| Box::pin(async move { operators::create_operator(tx, name, now).await })).await.unwrap().id
}

fn sent(request: CodeRequest) -> Timestamp {
    match request {
        CodeRequest::Sent { expires_at, .. } => expires_at,
        other => panic!("no code was sent: {other:?}"),
    }
}

#[tokio::test]
async fn a_new_number_signs_up_with_its_code_for_the_operator_with_sign_up_open() {
    let Setup { operations, store, phones, clock } = setup().await;
    let phone = PhoneNumber::parse("138 0013 8000").unwrap();

    // Nobody may sign up until an operator opens sign-up; nothing is sent.
    let closed = operations.send_phone_code(&phone).await;
    assert!(matches!(closed, Err(Error::Refused { code: "signup_closed", .. })), "{closed:?}");
    assert_eq!(phones.count(), 0);
    let first = operator(&store, "First Co").await;
    let second = operator(&store, "Second Co").await;
    operations.set_driver_signup(first, true).await.unwrap();
    assert!(!operations.set_driver_signup(second, true).await.unwrap(), "it was closed before");
    let open: Vec<_> = operations.operators_in(None).await.unwrap().into_iter().filter(|o| o.driver_signup).collect();
    assert_eq!(open.iter().map(|o| o.id).collect::<Vec<_>>(), [second], "one operator at most");

    let expires_at = sent(operations.send_phone_code(&phone).await.unwrap());
    assert_eq!(expires_at, clock.now() + SignedDuration::from_mins(5));
    let code = phones.last_code("+8613800138000");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(operations.log_in_with_code(&phone, wrong, None).await.unwrap(), CodeLogin::WrongCode);

    let CodeLogin::Driver { driver, signed_up } =
        operations.log_in_with_code(&phone, &code, Some("  Li Wei ".into())).await.unwrap()
    else {
        panic!("the right code logs in")
    };
    assert!(signed_up);
    assert_eq!(
        (driver.username.as_str(), driver.name.as_deref(), driver.operator_id),
        ("+8613800138000", Some("Li Wei"), second)
    );
    let app_tokens = store.read(move |conn| Box::pin(tokens::tokens_of_driver(conn, driver.id))).await.unwrap();
    assert_eq!(app_tokens.len(), 1, "the account charges with an app token of its own");
    assert!(app_tokens[0].id_token.starts_with("APP"));

    // The code is spent; the next one logs in to the same account.
    assert_eq!(operations.log_in_with_code(&phone, &code, None).await.unwrap(), CodeLogin::WrongCode);
    clock.advance(SignedDuration::from_mins(1));
    sent(operations.send_phone_code(&phone).await.unwrap());
    let again = operations.log_in_with_code(&phone, &phones.last_code("+8613800138000"), None).await.unwrap();
    assert_eq!(again, CodeLogin::Driver { driver: driver.clone(), signed_up: false });

    // A code also confirms what an account without a password must confirm (closing it): once.
    clock.advance(SignedDuration::from_mins(1));
    sent(operations.send_phone_code(&phone).await.unwrap());
    let code = phones.last_code("+8613800138000");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(!operations.confirm_phone_code(&phone, wrong).await.unwrap());
    assert!(operations.confirm_phone_code(&phone, &code).await.unwrap());
    assert!(!operations.confirm_phone_code(&phone, &code).await.unwrap(), "spent");

    // Closing sign-up keeps existing accounts' logins.
    operations.set_driver_signup(second, false).await.unwrap();
    clock.advance(SignedDuration::from_mins(1));
    sent(operations.send_phone_code(&phone).await.unwrap());
    let CodeLogin::Driver { signed_up: false, .. } =
        operations.log_in_with_code(&phone, &phones.last_code("+8613800138000"), None).await.unwrap()
    else {
        panic!("an existing account logs in with sign-up closed")
    };
}

#[tokio::test]
async fn codes_expire_die_after_wrong_tries_and_a_number_is_not_flooded() {
    let Setup { operations, store, phones, clock } = setup().await;
    let operator = operator(&store, "Only Co").await;
    operations.set_driver_signup(operator, true).await.unwrap();
    let phone = PhoneNumber::parse("13900000001").unwrap();

    // Expired.
    sent(operations.send_phone_code(&phone).await.unwrap());
    let code = phones.last_code("+8613900000001");
    clock.advance(SignedDuration::from_mins(5));
    assert_eq!(operations.log_in_with_code(&phone, &code, None).await.unwrap(), CodeLogin::WrongCode);

    // Void after five wrong tries, even for the right code.
    sent(operations.send_phone_code(&phone).await.unwrap());
    let code = phones.last_code("+8613900000001");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(operations.log_in_with_code(&phone, wrong, None).await.unwrap(), CodeLogin::WrongCode);
    }
    assert_eq!(operations.log_in_with_code(&phone, &code, None).await.unwrap(), CodeLogin::WrongCode);

    // Once a minute, five an hour: two sent so far this hour.
    let too_soon = operations.send_phone_code(&phone).await.unwrap();
    assert_eq!(too_soon, CodeRequest::TooSoon { retry_at: clock.now() + SignedDuration::from_secs(60) });
    for _ in 0..3 {
        clock.advance(SignedDuration::from_mins(1));
        sent(operations.send_phone_code(&phone).await.unwrap());
    }
    clock.advance(SignedDuration::from_mins(1));
    let hour_started: Timestamp = "2026-12-06T08:00:00Z".parse().unwrap();
    assert_eq!(
        operations.send_phone_code(&phone).await.unwrap(),
        CodeRequest::TooSoon { retry_at: hour_started + SignedDuration::from_hours(1) }
    );
    assert_eq!(phones.count(), 5);
    clock.advance(SignedDuration::from_hours(1));
    sent(operations.send_phone_code(&phone).await.unwrap());
    // Another number is not held up by this one.
    sent(operations.send_phone_code(&PhoneNumber::parse("13900000002").unwrap()).await.unwrap());
}
