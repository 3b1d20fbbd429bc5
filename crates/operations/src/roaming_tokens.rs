//! Real-time authorization of other members' drivers: before a charger's Authorize or
//! StartTransaction for a token another member pays for (its pseudonym of its driver) is applied,
//! that member is asked whether the driver may charge now, and the token's status here follows the
//! answer. When the member cannot be asked in time, the status it last gave stands.

use super::Operations;
use chargemesh_core::charger::ChargerEvent;
use chargemesh_core::{IdToken, StationId};
use chargemesh_store::tokens::{self, Token};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Asks the member whose driver a token stands for; implemented by federation.
pub trait TokenAuthority: Send + Sync {
    /// Whether member `token.emsp_party` lets its driver charge at `station` now; `None` when it
    /// cannot be asked.
    fn allows<'a>(
        &'a self,
        token: &'a Token,
        station: &'a StationId,
    ) -> Pin<Box<dyn Future<Output = Option<bool>> + Send + 'a>>;
}

/// How long a charger's message waits for the member's answer.
const ASK_WITHIN: Duration = Duration::from_secs(3);

impl Operations {
    /// Has roaming tokens authorized in real time by `authority` from now on.
    pub fn set_token_authority(&self, authority: std::sync::Arc<dyn TokenAuthority>) {
        let _ = self.token_authority.set(authority);
    }

    /// Refreshes the status of the roaming token `event` presents, if any, from its member.
    pub(super) async fn authorize_in_real_time(&self, station: &StationId, event: &ChargerEvent) {
        let id_token = match event {
            ChargerEvent::AuthorizationRequested { id_token } => id_token,
            ChargerEvent::TransactionStarted(start) => &start.id_token,
            _ => return,
        };
        let Some(authority) = self.token_authority.get() else { return };
        let key = id_token.as_str().to_owned();
        let token =
            match self.store.read(move |conn| Box::pin(async move { tokens::get_token(conn, &key).await })).await {
                Ok(Some(token)) if token.emsp_party.is_some() => token,
                _ => return,
            };
        let Ok(Some(allowed)) = tokio::time::timeout(ASK_WITHIN, authority.allows(&token, station)).await else {
            tracing::info!(token = %id_token, "the driver's member could not be asked; its last answer stands");
            return;
        };
        let status = if allowed {
            chargemesh_core::authorization::TokenStatus::Active
        } else {
            chargemesh_core::authorization::TokenStatus::Blocked
        };
        if token.status != status {
            self.set_token_status(id_token, status).await;
        }
    }

    async fn set_token_status(&self, id_token: &IdToken, status: chargemesh_core::authorization::TokenStatus) {
        let key = id_token.as_str().to_owned();
        let written =
            self.store.write(move |tx| Box::pin(async move { tokens::set_status(tx, &key, status).await })).await;
        if let Err(e) = written {
            tracing::error!(error = %e, "cannot record the driver's member's answer");
        }
    }
}
