use std::path::PathBuf;

use anyhow::Context;

use crate::capabilities::registry::transfer::store::{self, Mode};
use crate::config::Config;
use crate::services::audit::By;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The .xlsx or .csv file (UTF-8 or GBK).
    pub file: PathBuf,
    /// Community code.
    #[arg(long)]
    pub community: String,
    /// Check only: report every bad row, import nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import the good rows even if some are bad.
    #[arg(long)]
    pub skip_invalid: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Community code.
    #[arg(long)]
    pub community: String,
    /// Where to write the .xlsx.
    pub file: PathBuf,
}

pub async fn run_import(config: Config, a: ImportArgs) -> anyhow::Result<()> {
    let state = crate::app::open(config).await?;
    let bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    let mut conn = state.db.read().await?;
    let c = crate::auth::guard::community_by_code(&mut conn, &a.community)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("no community {}", a.community))?;
    drop(conn);
    let mode = match (a.dry_run, a.skip_invalid) {
        (true, _) => Mode::DryRun,
        (false, true) => Mode::SkipInvalid,
        (false, false) => Mode::Import,
    };
    let report = store::import(&state.db, &state.pii, None, &By::system("cli import"), c.id, &bytes, mode)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for e in &report.errors {
        if e.row == 0 {
            eprintln!("{}", e.reason);
        } else {
            eprintln!("第 {} 行 [{}]: {}", e.row, e.column, e.reason);
        }
    }
    println!("{} 行, {} 处错误", report.rows, report.errors.len());
    if report.applied {
        println!(
            "已导入: {} 名居民, 新建 {} 户, {} 个小区, {} 栋楼",
            report.residents, report.households, report.compounds, report.buildings
        );
        Ok(())
    } else if mode == Mode::DryRun && report.errors.is_empty() {
        println!("检查通过 (未导入: --dry-run)");
        Ok(())
    } else if mode == Mode::DryRun {
        anyhow::bail!("检查发现 {} 处错误（--dry-run：未导入）", report.errors.len())
    } else {
        anyhow::bail!(
            "未导入任何数据{}",
            if report.errors.is_empty() {
                ""
            } else {
                "：文件有错误（可用 --skip-invalid 只导入正确的行）"
            }
        )
    }
}

pub async fn run_export(config: Config, a: ExportArgs) -> anyhow::Result<()> {
    let state = crate::app::open(config).await?;
    let mut conn = state.db.read().await?;
    let c = crate::auth::guard::community_by_code(&mut conn, &a.community)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("no community {}", a.community))?;
    drop(conn);
    // The operator exports as the platform would: masked, the whole community.
    let actor = crate::auth::model::Actor {
        user_id: 0,
        username: "cli".into(),
        display_name: "cli".into(),
        grants: vec![crate::auth::model::Grant::platform()],
        subdistrict_communities: Default::default(),
    };
    let rows = store::export_rows(&state.db, &actor, c.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = crate::services::sheets::xlsx_table("居民登记", &store::EXPORT_COLUMNS, &rows)?;
    std::fs::write(&a.file, bytes)?;
    println!("wrote {} residents to {}", rows.len(), a.file.display());
    Ok(())
}
