//! Ticket categories: the record definition communities edit and the defaults every
//! community starts with.

use crate::auth::model::Permission::*;
use crate::error::AppResult;
use crate::services::records::model::{EntityDef, Kind, Search, Tenancy, field};

/// A category handled by a team, a partner unit or a person names which.
fn category_rules<'a>(
    _: &'a mut crate::db::Tx,
    _: Option<i64>,
    _: Option<i64>,
    merged: &'a serde_json::Map<String, serde_json::Value>,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::error::FieldError>>> {
    let needed = match merged.get("handler_kind").and_then(serde_json::Value::as_str) {
        Some("team") => Some("handler_team_id"),
        Some("partner_unit") => Some("handler_unit_id"),
        Some("user") => Some("handler_user_id"),
        _ => None,
    };
    let missing = needed.filter(|f| merged.get(*f).and_then(serde_json::Value::as_i64).is_none());
    Box::pin(std::future::ready(Ok(missing
        .map(|f| crate::error::FieldError::new(f, "validation.required"))
        .into_iter()
        .collect())))
}

/// A community's ticket categories are records like any other (list, edit, archive).
pub static CATEGORY: EntityDef = EntityDef {
    kind: "ticket_category",
    path: "ticket_categories",
    table: "ticket_categories",
    tenancy: Tenancy::Community,
    fields: &[
        field("code", Kind::Text { max: 20 }).required().listed(),
        field("name", Kind::Text { max: 40 }).required().listed(),
        field("grp", Kind::Choice(&["urban", "service"])).required().listed(),
        field("description", Kind::LongText { max: 500 }),
        field("deadline_hours", Kind::Int { min: 1, max: 2000 }).required().listed(),
        field("handler_kind", Kind::Choice(&["grid_worker", "team", "partner_unit", "user"])).required().listed(),
        field("handler_team_id", Kind::Ref("team")),
        field("handler_unit_id", Kind::Ref("partner_unit")),
        field("handler_user_id", Kind::UserRef),
        field("attributes", Kind::Questions),
    ],
    title: "name",
    search: &[Search::Contains("name")],
    filters: &[],
    children: &[],
    grid_column: None,
    household_column: None,
    read: ViewPlaces,
    write: EditPlaces,
    rules: Some(category_rules),
    after_write: None,
    holds_settings: false,
};

/// A category every community starts with: code, name, group, deadline in hours.
pub struct DefaultCategory {
    pub code: &'static str,
    pub name: &'static str,
    pub group: &'static str,
    pub hours: i64,
    pub description: &'static str,
}

/// The urban-management event classes and the community services.
pub const DEFAULT_CATEGORIES: [DefaultCategory; 11] = [
    DefaultCategory {
        code: "01",
        name: "市容环境",
        group: "urban",
        hours: 48,
        description: "暴露垃圾、积存垃圾渣土、道路不洁、乱堆物料等",
    },
    DefaultCategory {
        code: "02",
        name: "宣传广告",
        group: "urban",
        hours: 72,
        description: "非法小广告、违规户外广告、占道宣传等",
    },
    DefaultCategory {
        code: "03",
        name: "施工管理",
        group: "urban",
        hours: 48,
        description: "施工扰民、施工占道、工地渣土等",
    },
    DefaultCategory {
        code: "04",
        name: "街面秩序",
        group: "urban",
        hours: 24,
        description: "无照经营、占道经营、乱停车等",
    },
    DefaultCategory {
        code: "05",
        name: "突发事件",
        group: "urban",
        hours: 2,
        description: "路面塌陷、水管爆裂、火情、树木倒伏等",
    },
    DefaultCategory {
        code: "11",
        name: "设施报修",
        group: "service",
        hours: 72,
        description: "路灯、楼道灯、门禁、健身器材等公共设施损坏",
    },
    DefaultCategory {
        code: "12",
        name: "矛盾调解",
        group: "service",
        hours: 120,
        description: "邻里纠纷、物业纠纷、家庭矛盾",
    },
    DefaultCategory {
        code: "13",
        name: "帮办代办",
        group: "service",
        hours: 72,
        description: "证件代办、政策申请、为老助残代办",
    },
    DefaultCategory {
        code: "14",
        name: "环境卫生",
        group: "service",
        hours: 48,
        description: "楼道卫生、蚊虫消杀、积水清理",
    },
    DefaultCategory {
        code: "15",
        name: "治安隐患",
        group: "service",
        hours: 24,
        description: "消防通道堵塞、电动车楼道充电、可疑情况",
    },
    DefaultCategory {
        code: "16",
        name: "政策咨询",
        group: "service",
        hours: 48,
        description: "社保、医保、低保、养老等政策咨询",
    },
];
