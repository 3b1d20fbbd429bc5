//! Which chargers may connect: registered ones (with the right key where the port demands one), and
//! unknown ones only where the operator lets them register themselves as pending.

use super::Operations;
use crate::passwords;
use chargemesh_core::StationId;
use chargemesh_core::charger::Registration;
use chargemesh_gateway::{Admission, Credentials, UnknownChargerPolicy};
use chargemesh_store::StoreError;
use chargemesh_store::chargers::{self, NewCharger};

impl Operations {
    /// Decides whether `station` may connect. `require_credentials` is the port's security profile 1.
    pub async fn admit_charger(
        &self,
        station: &StationId,
        require_credentials: bool,
        credentials: Option<Credentials>,
    ) -> Result<Admission, StoreError> {
        let station_id = station.as_str().to_owned();
        let charger = self
            .store
            .read(move |conn| Box::pin(async move { chargers::get_charger(conn, &station_id).await }))
            .await?;
        if !require_credentials {
            let Some(_) = charger else {
                if self.settings.unknown_chargers == UnknownChargerPolicy::Pending {
                    self.register_pending(station).await?;
                    return Ok(Admission::Admitted);
                }
                return Ok(Admission::Unknown);
            };
            return Ok(Admission::Admitted);
        }
        // Where a key is required, an unknown station is refused exactly as a known one with the
        // wrong key (and as slowly): nobody learns which station ids exist. Self-registration
        // cannot work there anyway: a stranger has no key.
        let Some(credentials) = credentials else { return Ok(Admission::CredentialsRequired) };
        let hash = charger.and_then(|c| c.auth_key_hash).filter(|_| credentials.user == station.as_str());
        // Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let verified = tokio::task::spawn_blocking(move || passwords::matches(&credentials.password, hash.as_deref()))
            .await
            .unwrap_or(false);
        Ok(if verified { Admission::Admitted } else { Admission::WrongCredentials })
    }

    async fn register_pending(&self, station: &StationId) -> Result<(), StoreError> {
        let now = self.now();
        let new = NewCharger {
            station_id: station.as_str().to_owned(),
            operator_id: None,
            site_id: None,
            registration: Registration::Pending,
            auth_key_hash: None,
        };
        let created =
            self.store.write(move |tx| Box::pin(async move { chargers::create_charger(tx, &new, now).await })).await;
        match created {
            Ok(()) => {}
            // Two connections of a new station raced; the other one registered it.
            Err(e) if e.is_unique_violation() => {}
            Err(e) => return Err(e),
        }
        tracing::info!(station = %station, "unknown charger admitted as Pending");
        Ok(())
    }
}
