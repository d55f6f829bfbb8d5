//! The rewards shop's pages: what is on offer, redeeming, a redemption with its code and
//! QR, cancelling, and the handover desk where staff or the merchant confirm a code.

use askama::Template;
use axum::extract::{Path, State};

use super::{community, redemption_tag};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::store::{Redemption, Reward};
use crate::capabilities::points::{RedemptionStatus, ledger, store};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::form::{CsrfForm, opt, text};
use crate::web::ui::{self, Form, Input, InputKind, Item, Qr, Refusal, Stat, Tag, Tone};
use crate::web::{Notice, PageCtx, PageError, PageResult, SignedPage, done, fmt, render};

// ---------- the shop ----------

/// What the shop page shows, as read.
pub struct ShopData {
    pub items: Vec<Reward>,
    pub balance: i64,
    /// How many of each reward the person holds or was handed (what limits count).
    pub taken: std::collections::HashMap<i64, i64>,
    pub today: chrono::NaiveDate,
    /// Manages the points (staff): sees the rewards' page.
    pub staff: bool,
    /// Hands rewards over (staff or a partner unit): sees the desk.
    pub desk: bool,
    /// What this page's redemption keys start with; each reward's form adds its id, so a
    /// double tap redeems once and two rewards from one page are two redemptions.
    pub key: String,
    /// Each reward's picture (a thumbnail's address), when it has one.
    pub pictures: std::collections::HashMap<i64, String>,
}

/// A reward on offer as a small card: its picture, price and the few facts that limit
/// it on one line, and, while in stock, the form to redeem it.
pub struct ShopItem {
    pub title: String,
    pub tag: Option<Tag>,
    pub picture: Option<String>,
    pub price: String,
    pub facts: String,
    pub text: Option<String>,
    pub redeem: Option<Form>,
}

#[derive(Template)]
#[template(path = "points/shop.html")]
pub struct ShopPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub community: String,
    pub balance: Vec<Stat>,
    pub links: Vec<(String, String)>,
    pub items: Vec<ShopItem>,
}

async fn load_shop(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<ShopData> {
    let mut conn = state.db.read().await?;
    let today = fmt::today();
    let items = store::shop(&mut conn, c.id, today).await?;
    let balance = ledger::balance(&mut conn, c.id, actor.user_id).await?;
    let taken = store::taken_by_person(&mut conn, c.id, actor.user_id, None).await?;
    let staff = actor.can(c.id, Permission::ManagePoints);
    let unit =
        actor.grants.iter().any(|g| g.role() == crate::auth::model::Role::PartnerUnit && g.community_id == Some(c.id));
    let key = format!("{}-{}", actor.user_id, crate::db::now_ms());
    let ids: Vec<i64> = items.iter().map(|r| r.id).collect();
    let pictures =
        store::pictures(&mut conn, c.id, &ids).await?.into_iter().map(|(id, m)| (id, m.thumb_url(&c.code))).collect();
    Ok(ShopData { items, balance, taken, today, staff, desk: staff || unit, key, pictures })
}

fn shop_item(ctx: &PageCtx, c: &CommunityRef, d: &ShopData, r: &Reward, refusal: &Refusal) -> ShopItem {
    let mut facts = vec![
        format!("{} {}", ctx.t("points.stock"), r.stock),
        format!("{} {}", ctx.t("points.provider"), r.provider.clone().unwrap_or_else(|| c.name.clone())),
    ];
    if let Some(l) = r.per_person_limit {
        facts.push(format!("{} {l}", ctx.t("points.limit")));
    }
    if let Some(d) = r.valid_to {
        facts.push(format!("{} {d}", ctx.t("points.valid_to")));
    }
    let tag = if r.stock == 0 {
        Tag::new(ctx.t("points.out_of_stock_tag"), Tone::Grey)
    } else {
        Tag::new(ctx.t(&format!("choice.reward.kind.{}", r.kind.as_str())), Tone::Green)
    };
    let taken = d.taken.get(&r.id).copied().unwrap_or(0);
    // The same rule the redemption is held to: what it would refuse is not offered, and
    // the button says why.
    let why_not = crate::capabilities::points::may_redeem(&r.offer(), d.today, taken, d.balance).err();
    let redeem = (r.stock > 0).then(|| {
        let form =
            Form::new("", format!("/c/{}/shop/{}/redeem", c.code, r.id), ctx.tr("points.redeem_for", "n", r.price))
                .input(Input::hidden("key", format!("{}-{}", d.key, r.id)))
                .refused(refusal);
        match why_not {
            Some(why) => form.unavailable(ctx.t(why)),
            None => form.confirm(crate::i18n::tr(
                ctx.lang,
                "points.redeem_confirm",
                &[
                    ("item", r.name.clone()),
                    ("n", fmt::thousands(r.price)),
                    ("left", fmt::thousands(d.balance - r.price)),
                ],
            )),
        }
    });
    ShopItem {
        title: r.name.clone(),
        tag: Some(tag),
        picture: d.pictures.get(&r.id).cloned(),
        price: ctx.tr("points.n_points", "n", fmt::thousands(r.price)),
        facts: facts.join(" · "),
        text: r.description.clone(),
        redeem,
    }
}

/// The shop from what was read; `r` shows a refused redemption.
fn shop_view(ctx: PageCtx, c: &CommunityRef, d: &ShopData, r: &Refusal) -> ShopPage {
    let code = &c.code;
    let mut links = vec![(format!("/c/{code}/volunteer"), ctx.t("points.my_service"))];
    if d.staff {
        links.push((format!("/c/{code}/rewards"), ctx.t("points.rewards")));
    }
    if d.desk {
        links.push((format!("/c/{code}/handover"), ctx.t("points.handover")));
    }
    let items: Vec<ShopItem> = d.items.iter().map(|i| shop_item(&ctx, c, d, i, r)).collect();
    let forms: Vec<&Form> = items.iter().filter_map(|i| i.redeem.as_ref()).collect();
    ShopPage {
        title: ctx.t("points.shop"),
        alert: r.alert_for(&forms),
        community: c.name.clone(),
        balance: vec![Stat {
            label: ctx.t("points.balance"),
            value: fmt::thousands(d.balance),
            href: Some(format!("/c/{code}/volunteer")),
        }],
        links,
        items,
        ctx,
    }
}

async fn show_shop(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let d = load_shop(state, actor, c).await?;
    render(&shop_view(ctx, c, &d, r))
}

pub async fn shop(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_shop(&state, ctx, &actor, &c, &Refusal::none()).await
}

pub async fn redeem(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::redeem(&state, &actor, c.id, id, opt(&m, "key")).await {
        Ok(d) => Ok(done(&format!("/c/{code}/redemptions/{}", d.id), Notice::Redeemed)),
        Err(e) => {
            let action = format!("/c/{code}/shop/{id}/redeem");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_shop(&state, ctx, &actor, &c, &r).await }).await
        }
    }
}

// ---------- a redemption ----------

#[derive(Template)]
#[template(path = "points/redemption.html")]
pub struct RedemptionPage {
    pub ctx: PageCtx,
    /// The reward's name (the page's and its card's title).
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub tag: Option<Tag>,
    pub text: Option<String>,
    pub cells: Vec<(String, String)>,
    pub qr: Option<Qr>,
    pub cancel: Option<Form>,
}

/// A redemption as its holder (`mine`) or staff see it.
fn redemption_view(ctx: PageCtx, code: &str, d: &Redemption, mine: bool) -> RedemptionPage {
    let held = d.status == RedemptionStatus::Held;
    // The code shows in full only to its holder; the QR carries it for the desk's scanner.
    let qr = if held && mine { Qr::new(ctx.t("points.handover_code"), &d.code) } else { None };
    let mut cells = vec![
        (ctx.t("points.price"), ctx.tr("points.n_points", "n", d.points)),
        (ctx.t("points.held_at"), fmt::datetime(d.held_at)),
        (ctx.t("points.expires_at"), fmt::datetime(d.expires_at)),
    ];
    if mine {
        cells.insert(0, (ctx.t("points.handover_code"), d.code.clone()));
    }
    let cancel = held.then(|| {
        Form::new(ctx.t("points.cancel"), format!("/c/{code}/redemptions/{}/cancel", d.id), ctx.t("points.cancel"))
            .danger(ctx.t("points.cancel_confirm"))
            .folded()
    });
    RedemptionPage {
        title: d.reward.clone(),
        crumbs: vec![(format!("/c/{code}/shop"), ctx.t("points.shop"))],
        tag: Some(redemption_tag(&ctx, d.status)),
        text: held.then(|| ctx.t("points.show_code")),
        cells,
        qr,
        cancel,
        ctx,
    }
}

pub async fn redemption_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let d = store::redemption(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    let staff = actor.can(c.id, Permission::ManagePoints);
    if d.user_id != actor.user_id && !staff {
        return Err(PageError(AppError::NotFound));
    }
    render(&redemption_view(ctx, &code, &d, d.user_id == actor.user_id))
}

pub async fn cancel(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    store::cancel(&state, &actor, c.id, id).await?;
    Ok(done(&format!("/c/{code}/redemptions/{id}"), Notice::Cancelled))
}

// ---------- the handover desk ----------

/// What was just handed over, shown above the desk.
pub struct HandedOver {
    pub tag: Option<Tag>,
    pub cells: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "points/handover.html")]
pub struct HandoverPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub handed_over: Option<HandedOver>,
    pub confirm: Form,
    pub waiting: Vec<Item>,
}

/// The desk: the redemptions `waiting`, and what was `handed` over just now if any.
fn handover_view(
    ctx: PageCtx,
    code: &str,
    waiting: &[Redemption],
    handed: Option<&Redemption>,
    r: &Refusal,
) -> HandoverPage {
    let confirm = Form::new(ctx.t("points.confirm_handover"), format!("/c/{code}/handover"), ctx.t("points.confirm"))
        .input(
            Input::new("code", ctx.t("points.handover_code"), InputKind::Number)
                .required()
                .hint(ctx.t("points.handover_hint")),
        )
        .refused(r);
    let handed_over = handed.map(|d| HandedOver {
        tag: Some(Tag::new(ctx.t("points.status.confirmed"), Tone::Green)),
        cells: vec![
            (ctx.t("points.reward"), d.reward.clone()),
            (ctx.t("points.holder"), crate::services::pii::mask_name(&d.holder)),
        ],
    });
    let waiting = waiting
        .iter()
        .map(|d| Item {
            title: d.reward.clone(),
            sub: format!(
                "{} · {} · {}",
                crate::services::pii::mask_name(&d.holder),
                ctx.tr("points.n_points", "n", d.points),
                fmt::datetime(d.held_at)
            ),
            href: None,
            tag: None,
        })
        .collect();
    HandoverPage {
        title: ctx.t("points.handover"),
        alert: r.alert_for(&[&confirm]),
        handed_over,
        confirm,
        waiting,
        ctx,
    }
}

async fn show_handover(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    handed: Option<&Redemption>,
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let waiting = store::handovers(&mut conn, actor, c.id).await?;
    drop(conn);
    render(&handover_view(ctx, &c.code, &waiting, handed, r))
}

pub async fn handover_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_handover(&state, ctx, &actor, &c, None, &Refusal::none()).await
}

pub async fn handover(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::confirm(&state, &actor, c.id, &text(&m, "code")).await {
        Ok(d) => show_handover(&state, ctx, &actor, &c, Some(&d), &Refusal::none()).await,
        Err(e) => {
            let action = format!("/c/{code}/handover");
            ui::refused(
                e,
                ctx,
                &m,
                &action,
                |ctx, r| async move { show_handover(&state, ctx, &actor, &c, None, &r).await },
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use askama::Template;
    use serde_json::Value;

    use super::*;
    use crate::capabilities::points::RewardKind;

    const X: &str = "<script>x</script>";

    fn place() -> CommunityRef {
        CommunityRef { id: 1, code: "c1".into(), name: "社区".into(), subdistrict_id: 1, kind: String::new() }
    }

    fn reward(id: i64, stock: i64) -> Reward {
        Reward {
            community_id: 1,
            id,
            name: format!("{X}体检"),
            kind: RewardKind::Service,
            provider_unit_id: None,
            provider: Some(format!("{X}医院")),
            price: 40,
            stock,
            per_person_limit: Some(1),
            valid_from: None,
            valid_to: None,
            hold_days: 7,
            description: Some(X.into()),
            archived_at: None,
        }
    }

    fn redemption(status: RedemptionStatus) -> Redemption {
        Redemption {
            community_id: 1,
            id: 9,
            reward_id: 3,
            reward: format!("{X}午餐"),
            provider_unit_id: None,
            user_id: 2,
            holder: "张三丰".into(),
            points: 20,
            code: "12345678".into(),
            status,
            held_at: 0,
            expires_at: 0,
            decided_at: None,
        }
    }

    fn shop(items: Vec<Reward>, balance: i64) -> ShopData {
        ShopData {
            items,
            balance,
            taken: Default::default(),
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
            staff: false,
            desk: false,
            key: "k".into(),
            pictures: Default::default(),
        }
    }

    /// What the volunteer cannot afford, or has reached the limit of, is offered with its
    /// button disabled and the reason beside it; what they can take asks first, saying what
    /// it spends and what is left.
    #[test]
    fn the_shop_says_why_a_reward_cannot_be_taken_and_asks_before_spending() {
        let mut d = shop(vec![reward(3, 2), reward(4, 2), reward(5, 2)], 60);
        d.items[2].price = 80;
        d.taken.insert(4, 1);
        let html = shop_view(crate::web::tests::ctx(), &place(), &d, &Refusal::none()).render().unwrap();
        let form = |id: i64| {
            let start = html.find(&format!("/c/c1/shop/{id}/redeem")).unwrap();
            html[start..start + html[start..].find("</form>").unwrap()].to_string()
        };
        assert!(form(3).contains("data-confirm=\"") && form(3).contains("40 积分") && form(3).contains("20 积分"));
        assert!(!form(3).contains("disabled"), "{}", form(3));
        assert!(form(4).contains(" disabled") && form(4).contains("已达到每人限兑数量"), "{}", form(4));
        assert!(form(5).contains(" disabled") && form(5).contains("积分余额不足"), "{}", form(5));
        assert!(!form(4).contains("data-confirm") && !form(5).contains("data-confirm"));
    }

    fn escaped(html: &str) -> bool {
        !html.contains("<script>x") && (html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"))
    }

    /// The shop from plain data: names stay text, what is out of stock has no button.
    #[test]
    fn the_shop_offers_what_is_in_stock_and_escapes_its_text() {
        let d = ShopData { desk: true, ..shop(vec![reward(3, 2), reward(4, 0)], 1200) };
        let html = shop_view(crate::web::tests::ctx(), &place(), &d, &Refusal::none()).render().unwrap();
        assert!(escaped(&html), "{html}");
        assert!(html.contains("action=\"/c/c1/shop/3/redeem\"") && !html.contains("/c/c1/shop/4/redeem"));
        assert!(html.contains("/c/c1/handover") && !html.contains("/c/c1/rewards"));
        assert!(html.contains("1,200"));
    }

    /// Each reward's form carries its own key: a repeated tap is one redemption, and two
    /// rewards taken from one page are two.
    #[test]
    fn each_reward_is_redeemed_with_its_own_key() {
        let d = shop(vec![reward(3, 2), reward(4, 2)], 0);
        let html = shop_view(crate::web::tests::ctx(), &place(), &d, &Refusal::none()).render().unwrap();
        assert!(html.contains(r#"name="key" value="k-3""#) && html.contains(r#"name="key" value="k-4""#), "{html}");
    }

    /// A redemption refused for the limit says so above the shop.
    #[test]
    fn a_refused_redemption_says_why() {
        let d = shop(vec![reward(3, 2)], 0);
        let r = Refusal {
            form_id: Form::id_for("/c/c1/shop/3/redeem"),
            alert: Some("已达到每人限兑数量".into()),
            ..Refusal::default()
        };
        let html = shop_view(crate::web::tests::ctx(), &place(), &d, &r).render().unwrap();
        assert!(html.contains("class=\"alert\"") && html.contains("已达到每人限兑数量"), "{html}");
    }

    /// The holder sees the code and a QR drawn from its modules; staff see neither.
    #[test]
    fn the_holder_sees_the_code_and_its_qr() {
        let d = redemption(RedemptionStatus::Held);
        let html = redemption_view(crate::web::tests::ctx(), "c1", &d, true).render().unwrap();
        assert!(escaped(&html), "{html}");
        assert!(html.contains("<div class=\"card-body\"><svg class=\"qr\""), "{html}");
        assert!(html.contains("12345678") && html.contains("/c/c1/redemptions/9/cancel"));
        assert!(html.contains("data-confirm=\"确定取消这次兑换吗"), "cancelling asks first");
        let staff = redemption_view(crate::web::tests::ctx(), "c1", &d, false).render().unwrap();
        assert!(!staff.contains("class=\"qr\"") && !staff.contains("12345678"));
        let done = redemption_view(crate::web::tests::ctx(), "c1", &redemption(RedemptionStatus::Confirmed), true);
        assert!(done.qr.is_none() && done.cancel.is_none());
    }

    /// A wrong code shows its error on the code's field; a right one what was handed over.
    #[test]
    fn the_desk_shows_a_wrong_code_on_its_field() {
        let r = Refusal {
            form_id: Form::id_for("/c/c1/handover"),
            typed: [("code".to_string(), Value::String("00000000".into()))].into_iter().collect(),
            errors: BTreeMap::from([("code".to_string(), "兑换码不正确".to_string())]),
            alert: Some("有几项需要修改".into()),
        };
        let waiting = [redemption(RedemptionStatus::Held)];
        let html = handover_view(crate::web::tests::ctx(), "c1", &waiting, None, &r).render().unwrap();
        assert!(escaped(&html), "{html}");
        assert!(html.contains(r#"id="e-c-c1-handover-code""#) && html.contains("兑换码不正确"), "{html}");
        assert!(html.contains("张**") && !html.contains("张三丰"), "the holder's name is masked");
        // The camera and a photo read the code into this form's box (assets/scan.js).
        assert!(html.contains(r#"data-scan-form="c-c1-handover" data-scan-field="code""#), "{html}");
        assert!(html.contains("/assets/vendor/jsQR-1.4.0.js") && html.contains("/assets/scan.js"));
        let ok = handover_view(crate::web::tests::ctx(), "c1", &[], Some(&waiting[0]), &Refusal::none());
        assert!(ok.alert.is_none() && ok.handed_over.is_some());
        assert!(ok.render().unwrap().contains("tag-green"));
    }
}
