//! A stored photo, as capabilities and the house name it.

/// A stored photo.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Media {
    pub community_id: i64,
    pub id: i64,
    pub owner_kind: String,
    pub owner_id: i64,
    pub mime: String,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// When it was added (a ticket's photos fall before or after its resolution by it).
    pub created_at: i64,
}

impl Media {
    pub fn url(&self, community_code: &str) -> String {
        format!("/c/{community_code}/media/{}", self.id)
    }

    pub fn thumb_url(&self, community_code: &str) -> String {
        format!("/c/{community_code}/media/{}/thumb", self.id)
    }
}
