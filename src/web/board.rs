//! The public board 公开栏 of a community (seed 003's 党务公开栏 and 精神文明宣传栏, the
//! honour list, the residents' code): sections the community chooses, each fed by the
//! capabilities that have something public for it (notices, honours, council decisions,
//! the needs list, the disclosure of funds). Each capability answers its parts through
//! `Capability::board`; the page and the printed sheet gather them through `gather`.

use crate::auth::guard::CommunityRef;
use crate::error::AppResult;
use crate::web::PageCtx;
use crate::web::state::AppState;

crate::text_enum! {
    /// The board's sections, in the order they hang.
    pub enum BoardSection {
        /// 党务公开.
        PartyAffairs = "party_affairs",
        /// 居务公开: what the community decided and does.
        Affairs = "affairs",
        /// 财务公开.
        Finance = "finance",
        /// 光荣榜 and 最美XX人公示榜.
        Honours = "honours",
        /// 居规民约.
        Code = "code",
    }
}

/// One line of a part: what, a detail (a date, a figure), and where it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardLine {
    pub title: String,
    pub detail: String,
    pub href: Option<String>,
}

/// What one capability hangs in one section: a heading, its lines, and its own page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardPart {
    pub section: BoardSection,
    pub title: String,
    pub lines: Vec<BoardLine>,
    pub more: Option<(String, String)>,
}

/// A capability's parts of a community's board: public things only, in the reader's
/// language.
pub type BoardFn = for<'a> fn(
    &'a AppState,
    &'a PageCtx,
    &'a CommunityRef,
) -> futures::future::BoxFuture<'a, AppResult<Vec<BoardPart>>>;

/// Every capability's parts, of the sections asked, in the sections' order.
pub async fn gather(
    state: &AppState,
    ctx: &PageCtx,
    c: &CommunityRef,
    sections: &[BoardSection],
) -> AppResult<Vec<BoardPart>> {
    let mut parts = Vec::new();
    for f in state.caps.iter().filter_map(|cap| cap.board) {
        parts.extend(f(state, ctx, c).await?.into_iter().filter(|p| sections.contains(&p.section)));
    }
    parts.sort_by_key(|p| BoardSection::ALL.iter().position(|s| *s == p.section));
    Ok(parts)
}
