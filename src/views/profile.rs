//! A found profile: who it is, then what they have, one card each.

use crate::format;
use crate::model::{AccessLevel, NonSubscription, Profile, Subscription, Timestamp};
use leptos::prelude::*;
use std::sync::Arc;

#[component]
pub fn ProfileView(profile: Arc<Profile>) -> impl IntoView {
    let access_levels = profile.access_levels.clone();
    let subscriptions = profile.subscriptions.clone();
    let purchases = profile.non_subscriptions.clone();
    view! {
        <article class="profile">
            <Summary profile=profile />
            <Card title="Access levels" count=access_levels.len()>
                <AccessLevels items=access_levels />
            </Card>
            <Card title="Subscriptions" count=subscriptions.len()>
                <Subscriptions items=subscriptions />
            </Card>
            <Card title="Purchases" count=purchases.len()>
                <Purchases items=purchases />
            </Card>
        </article>
    }
}

#[component]
fn Summary(profile: Arc<Profile>) -> impl IntoView {
    let customer = profile
        .customer_user_id
        .clone()
        .unwrap_or_else(|| "— (anonymous)".into());
    let fetched = profile.timestamp.map(format::millis);
    view! {
        <section class="summary" aria-label="Profile summary">
            <dl>
                <div><dt>"Customer user ID"</dt><dd><code>{customer}</code></dd></div>
                <div><dt>"Profile ID"</dt><dd><code>{profile.profile_id.clone()}</code></dd></div>
                <div><dt>"Total revenue"</dt><dd class="revenue">{format::usd(profile.total_revenue_usd)}</dd></div>
                {fetched.map(|at| view! { <div><dt>"Data as of"</dt><dd>{at}</dd></div> })}
            </dl>
        </section>
    }
}

#[component]
fn Card(title: &'static str, count: usize, children: Children) -> impl IntoView {
    view! {
        <section class="card">
            <h2>{title} " " <span class="count">{count}</span></h2>
            {if count == 0 { view! { <p class="empty">"None"</p> }.into_any() } else { children().into_any() }}
        </section>
    }
}

fn date(value: Option<&Timestamp>, absent: &'static str) -> String {
    format::maybe_timestamp(value, absent)
}

fn optional(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "—".into())
}

#[component]
fn AccessLevels(items: Vec<AccessLevel>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|level| {
            view! {
                <tr>
                    <th scope="row">{level.access_level_id}</th>
                    <td>{format::store(&level.store)}</td>
                    <td><code>{level.store_product_id}</code></td>
                    <td>{date(level.starts_at.as_ref(), "—")}</td>
                    <td>{date(level.expires_at.as_ref(), "never (lifetime)")}</td>
                    <td>{date(level.renewal_cancelled_at.as_ref(), "—")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table>
                <thead><tr>
                    <th scope="col">"Access level"</th><th scope="col">"Store"</th><th scope="col">"Product"</th>
                    <th scope="col">"Starts"</th><th scope="col">"Expires"</th><th scope="col">"Renewal cancelled"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn Subscriptions(items: Vec<Subscription>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|subscription| {
            view! {
                <tr>
                    <td>{format::store(&subscription.store)}</td>
                    <td><code>{subscription.store_product_id}</code></td>
                    <td>{optional(&subscription.store_base_plan_id)}</td>
                    <td>{optional(&subscription.environment)}</td>
                    <td>{date(subscription.purchased_at.as_ref(), "—")}</td>
                    <td>{date(subscription.expires_at.as_ref(), "never")}</td>
                    <td>{date(subscription.renewal_cancelled_at.as_ref(), "—")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table>
                <thead><tr>
                    <th scope="col">"Store"</th><th scope="col">"Product"</th><th scope="col">"Base plan"</th>
                    <th scope="col">"Environment"</th><th scope="col">"Purchased"</th><th scope="col">"Expires"</th>
                    <th scope="col">"Renewal cancelled"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn Purchases(items: Vec<NonSubscription>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|purchase| {
            let kind = match (purchase.is_refund, purchase.is_consumable) {
                (true, _) => "Refunded",
                (false, true) => "Consumable",
                (false, false) => "One-time",
            };
            view! {
                <tr>
                    <td>{format::store(&purchase.store)}</td>
                    <td><code>{purchase.store_product_id}</code></td>
                    <td>{optional(&purchase.environment)}</td>
                    <td>{date(purchase.purchased_at.as_ref(), "—")}</td>
                    <td>{kind}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table>
                <thead><tr>
                    <th scope="col">"Store"</th><th scope="col">"Product"</th><th scope="col">"Environment"</th>
                    <th scope="col">"Purchased"</th><th scope="col">"Kind"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
