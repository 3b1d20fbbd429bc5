//! Platforms outside the consortium that use this node's OCPI endpoints, as the operator manages
//! them: created with the digest of a registration token, listed, and revoked.

use super::{Error, Operations, Outcome};
use chargemesh_store::partners::{self, Partner};

impl Operations {
    /// Creates partner `name` (1 to 100 characters, trimmed), which registers with the token whose
    /// digest is `token_a_hash`.
    pub async fn create_partner(&self, name: &str, token_a_hash: String) -> Outcome<Partner> {
        let now = self.now();
        let name = name.trim().to_owned();
        if name.is_empty() || name.len() > 100 {
            return Err(Error::invalid("name: 1 to 100 characters"));
        }
        let partner = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let id = partners::create(&mut *tx, &name, &token_a_hash, now).await?;
                    let all = partners::list(tx).await?;
                    Ok(all.into_iter().find(|p| p.id == id).expect("created above"))
                })
            })
            .await?;
        Ok(partner)
    }

    /// Every partner: registered or not, revoked or not.
    pub async fn partners(&self) -> Outcome<Vec<Partner>> {
        Ok(self.store.read(|conn| Box::pin(partners::list(conn))).await?)
    }

    /// Ends partner `id`'s access at once; the partner as it was before.
    pub async fn revoke_partner(&self, id: i64) -> Outcome<Option<Partner>> {
        let now = self.now();
        let revoked = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let before = partners::list(&mut *tx).await?.into_iter().find(|p| p.id == id);
                    Ok(partners::revoke(tx, id, now).await?.then_some(before))
                })
            })
            .await?;
        revoked.ok_or_else(|| Error::not_found(format!("partner {id} with access")))
    }
}
