use anyhow::{Context, bail};

use crate::auth::model::{Grant, Role};
use crate::capabilities::registry::people::posts::Post;
use crate::capabilities::registry::people::users::{self, NewUser};
use crate::config::Config;
use crate::error::AppError;
use crate::services::audit::By;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a user with one role.
    Create {
        username: String,
        /// Name shown to others.
        #[arg(long)]
        name: String,
        /// Password (or set LINLI_PASSWORD).
        #[arg(long, env = "LINLI_PASSWORD", hide_env_values = true)]
        password: String,
        /// platform_admin, subdistrict_admin, community_secretary, community_staff,
        /// grid_worker, volunteer, party_member.
        #[arg(long)]
        role: String,
        /// Community code (for community roles).
        #[arg(long)]
        community: Option<String>,
        /// Subdistrict code (for subdistrict_admin).
        #[arg(long)]
        subdistrict: Option<String>,
        /// Grid name or code in the community (for grid_worker).
        #[arg(long)]
        grid: Option<String>,
        /// Mainland mobile number (also signs in).
        #[arg(long)]
        phone: Option<String>,
        /// A staff member's post: compound_secretary, field_worker or zone_secretary.
        #[arg(long)]
        post: Option<String>,
        /// The compound or zone (by name) a compound or zone secretary looks after.
        #[arg(long)]
        post_place: Option<String>,
    },
    /// Set a new password; the user's sessions end.
    ResetPassword {
        username: String,
        #[arg(long, env = "LINLI_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(fields) => {
            let lines: Vec<String> =
                fields.iter().map(|f| format!("{}: {}", f.field, f.message(crate::i18n::Lang::Zh))).collect();
            anyhow::anyhow!("{}", lines.join("\n"))
        }
        AppError::NotFound => anyhow::anyhow!("no such user"),
        other => anyhow::anyhow!("{other}"),
    }
}

pub async fn run(config: Config, cmd: Command) -> anyhow::Result<()> {
    let state = crate::app::open(config).await?;
    let by = By::system("cli");
    match cmd {
        Command::Create { username, name, password, role, community, subdistrict, grid, phone, post, post_place } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role}"))?;
            let mut conn = state.db.read().await?;
            let community_id = match &community {
                Some(code) => Some(
                    crate::auth::guard::community_by_code(&mut conn, code)
                        .await
                        .map_err(explain)?
                        .with_context(|| format!("no community {code}"))?
                        .id,
                ),
                None => None,
            };
            let grant = match role {
                Role::PlatformAdmin => Grant::platform(),
                Role::SubdistrictAdmin => {
                    let code = subdistrict.context("--subdistrict is needed")?;
                    let id: i64 = crate::db::query("SELECT id FROM subdistricts WHERE code = $1")
                        .bind(code.as_str())
                        .scalar_optional(&mut conn)
                        .await?
                        .with_context(|| format!("no subdistrict {code}"))?;
                    Grant::subdistrict(id)
                }
                Role::GridWorker => {
                    let c = community_id.context("--community is needed")?;
                    let g = grid.context("--grid is needed")?;
                    let id: i64 =
                        crate::db::query("SELECT id FROM grids WHERE community_id = $1 AND (name = $2 OR code = $2)")
                            .bind(c)
                            .bind(g.as_str())
                            .scalar_optional(&mut conn)
                            .await?
                            .with_context(|| format!("no grid {g}"))?;
                    Grant::grid(c, id)
                }
                Role::Resident | Role::PartnerUnit => {
                    bail!("residents and partner units are created from the community's pages or API")
                }
                r => Grant::community(r, community_id.context("--community is needed")?),
            };
            let post_kind = post.as_deref().and_then(Post::parse);
            let post_place_id = match (post_kind.and_then(Post::place), &post_place) {
                (Some(def), Some(place)) => Some(
                    crate::db::query(format!(
                        "SELECT id FROM {} WHERE community_id = $1 AND name = $2 AND archived_at IS NULL",
                        def.table
                    ))
                    .bind(community_id.context("--community is needed")?)
                    .bind(place.as_str())
                    .scalar_optional::<i64>(&mut conn)
                    .await?
                    .with_context(|| format!("no {} named {place}", def.kind))?,
                ),
                (None, Some(_)) if post_kind.is_some() => {
                    bail!("--post-place is only for compound_secretary and zone_secretary")
                }
                _ => None,
            };
            drop(conn);
            let id = users::create(
                &state.db,
                &state.pii,
                None,
                &by,
                NewUser {
                    username: username.clone(),
                    display_name: name,
                    password,
                    phone,
                    grants: vec![grant],
                    post,
                    post_place_id,
                    ..Default::default()
                },
            )
            .await
            .map_err(explain)?;
            println!("created user {username} (id {id})");
        }
        Command::ResetPassword { username, password } => {
            users::reset_password(&state.db, &by, &username, &password).await.map_err(explain)?;
            println!("password of {username} changed; their sessions have ended");
        }
    }
    Ok(())
}
