//! Posts 岗位 a community gives its staff: seed 002's 嘉福 has 3 小区秘书 (each looking after a
//! compound), 4 外勤员 and 5 片区秘书 (each looking after a zone), every one with a notebook
//! of field notes. A post says who looks after what; what an account may see and do stays
//! with its role.

use crate::auth::model::{Grant, Role};
use crate::error::FieldError;
use crate::services::records::model::EntityDef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Post {
    CompoundSecretary,
    FieldWorker,
    ZoneSecretary,
}

impl Post {
    pub const ALL: [Post; 3] = [Post::CompoundSecretary, Post::FieldWorker, Post::ZoneSecretary];

    pub fn as_str(self) -> &'static str {
        match self {
            Post::CompoundSecretary => "compound_secretary",
            Post::FieldWorker => "field_worker",
            Post::ZoneSecretary => "zone_secretary",
        }
    }

    pub fn parse(s: &str) -> Option<Post> {
        Post::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label_key(self) -> String {
        format!("post.{}", self.as_str())
    }

    /// The kind of place the post looks after, when it is one place.
    pub fn place(self) -> Option<&'static EntityDef> {
        match self {
            Post::CompoundSecretary => Some(&crate::capabilities::registry::places::COMPOUND),
            Post::ZoneSecretary => Some(&crate::capabilities::registry::places::ZONE),
            Post::FieldWorker => None,
        }
    }
}

/// A post as asked for (`post`, `post_place_id`), checked against the roles the account is
/// given. Whether the place exists in the community is checked where it is written.
pub fn check(
    post: Option<&str>,
    place_id: Option<i64>,
    grants: &[Grant],
) -> Result<Option<(Post, Option<i64>)>, FieldError> {
    let Some(raw) = post.map(str::trim).filter(|p| !p.is_empty()) else {
        return match place_id {
            Some(_) => Err(FieldError::new("post", "validation.required")),
            None => Ok(None),
        };
    };
    let post = Post::parse(raw).ok_or_else(|| FieldError::new("post", "validation.choice"))?;
    if !grants.iter().any(|g| matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary)) {
        return Err(FieldError::new("post", "validation.post_staff"));
    }
    match (post.place(), place_id) {
        (Some(_), None) => Err(FieldError::new("post_place_id", "validation.required")),
        (None, Some(_)) => Err(FieldError::new("post_place_id", "validation.post_no_place")),
        _ => Ok(Some((post, place_id))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secretary_of_a_zone_needs_the_zone_and_a_staff_role() {
        let staff = [Grant::community(Role::CommunityStaff, 1)];
        assert_eq!(check(Some("zone_secretary"), Some(7), &staff), Ok(Some((Post::ZoneSecretary, Some(7)))));
        assert_eq!(check(Some("zone_secretary"), None, &staff).unwrap_err().field, "post_place_id");
        assert_eq!(check(Some("field_worker"), None, &staff), Ok(Some((Post::FieldWorker, None))));
        assert_eq!(check(Some("field_worker"), Some(7), &staff).unwrap_err().field, "post_place_id");
        assert_eq!(check(Some("mayor"), None, &staff).unwrap_err().field, "post");
        let volunteer = [Grant::community(Role::Volunteer, 1)];
        assert_eq!(check(Some("field_worker"), None, &volunteer).unwrap_err().key, "validation.post_staff");
        assert_eq!(check(None, Some(7), &staff).unwrap_err().field, "post");
        assert_eq!(check(Some(" "), None, &volunteer), Ok(None));
    }
}
