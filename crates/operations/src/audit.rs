//! The audit log: entries are appended, read and exported, never changed.

use super::{Operations, Outcome};
use chargemesh_store::audit::{self, AuditEntry, AuditFilter};

impl Operations {
    /// Appends an entry to the audit log.
    pub async fn append_audit_entry(&self, entry: AuditEntry) -> Outcome<()> {
        self.store.write(move |tx| Box::pin(async move { audit::append(tx, &entry).await })).await?;
        Ok(())
    }

    /// The entries `filter` selects, newest first.
    pub async fn audit_entries(&self, filter: AuditFilter) -> Outcome<Vec<AuditEntry>> {
        Ok(self.store.read(move |conn| Box::pin(async move { audit::list(conn, &filter).await })).await?)
    }
}
