//! Other members' locations and tariffs (OCPI objects), as they last pushed them to this node.

use super::{Operations, Outcome};
use chargemesh_store::federation::{self, Pushed, PushedObject};

impl Operations {
    /// The objects of a kind that member `cpo` pushed, or that every member pushed.
    pub async fn pushed_by_members(&self, kind: Pushed, cpo: Option<&str>) -> Outcome<Vec<PushedObject>> {
        let cpo = cpo.map(str::to_owned);
        Ok(self
            .store
            .read(move |conn| Box::pin(async move { federation::pushed(conn, kind, cpo.as_deref()).await }))
            .await?)
    }

    /// Location `location_id` as member `cpo` last pushed it, if it is kept.
    pub async fn pushed_location(&self, cpo: &str, location_id: &str) -> Outcome<Option<PushedObject>> {
        let kept = self.pushed_by_members(Pushed::Location, Some(cpo)).await?;
        Ok(kept.into_iter().find(|l| l.id == location_id))
    }
}
