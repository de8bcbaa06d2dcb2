// The templates the service ships, compiled into the binary so that it runs from any folder.
// Generated from templates/*.mustache by `bash templates/embed.sh`; a test checks that the two agree.

/// The shipped Mustache templates by name (the file name without `.mustache`).
enum BuiltInTemplates {
    static let all: [String: String] = [
        "dashboard": #"""
<!doctype html>
<html lang="en">
<head>
<title>clickattr · {{first_day}} to {{last_day}}</title>
{{> dashboard_style}}
</head>
<body>
<header>
  <h1>clickattr · WhatsApp link attribution</h1>
  {{#signed_in}}<form method="post" action="/dashboard/logout"><button type="submit">Log out</button></form>{{/signed_in}}
</header>
<main>
  <section class="panel" aria-label="Date range">
    <form class="range" method="get" action="/dashboard">
      <label>First day (UTC)<input type="date" name="first_day" value="{{first_day}}" required></label>
      <label>Last day (UTC)<input type="date" name="last_day" value="{{last_day}}" required></label>
      <button type="submit">Show</button>
    </form>
    {{^range_error}}
    <div class="downloads">
      <span>Download the clicks of these days:</span>
      <a class="button secondary" href="{{csv_url}}" download>CSV</a>
      <a class="button secondary" href="{{json_url}}" download>JSON</a>
      <a class="button secondary" href="{{summary_url}}" download>Summary by day (CSV)</a>
    </div>
    {{/range_error}}
  </section>
  {{#range_error}}<div class="error" role="alert">{{range_error}}</div>{{/range_error}}
  {{^range_error}}
  {{#empty}}
  <section class="panel empty">
    {{#database_empty}}
    <h2>No data yet</h2>
    <p>Nothing has been recorded. Set this host as the destination of a WhatsApp marketing link and subscribe
      <code>{{webhook_path}}</code> to Meta's <code>user_actions</code> webhook, or fill a database with sample traffic:</p>
    <p><code>clickattr demo</code> then <code>clickattr serve</code></p>
    {{/database_empty}}
    {{^database_empty}}
    <h2>No clicks from {{first_day}} to {{last_day}}</h2>
    <p>No link click and no visit falls on these UTC days. Choose other days above.</p>
    {{/database_empty}}
  </section>
  {{/empty}}
  {{^empty}}
  <section class="kpis" aria-label="Totals">
    {{#kpis}}
    <div class="kpi" data-name="{{name}}" data-value="{{value}}">
      <div class="label">{{label}}</div>
      <div class="figure">{{shown}}</div>
      <div class="note">{{note}}</div>
    </div>
    {{/kpis}}
  </section>
  <div class="grid2">
    <section class="panel">
      <h2>Funnel</h2>
      <p class="help">Of the clicks on these days: how many reached the page (first human visit within the window), and the conversions attributed to them.</p>
      <div class="chart"><div class="wide">{{{funnel_svg}}}</div><div class="narrow">{{{funnel_svg_narrow}}}</div></div>
    </section>
    <section class="panel">
      <h2>Click-to-visit latency</h2>
      <p class="help">{{visited_total}} visited clicks by the time from the click to the first visit. {{before_webhook}} visits came before the click time Meta sent, which is rounded to the second.</p>
      <div class="chart"><div class="wide">{{{latency_svg}}}</div><div class="narrow">{{{latency_svg_narrow}}}</div></div>
    </section>
  </div>
  <section class="panel">
    <h2>Per day</h2>
    <p class="help">Clicks, visited clicks and conversions by the UTC day of the click; days without clicks show as zero.</p>
    <div class="chart"><div class="wide">{{{daily_svg}}}</div><div class="narrow">{{{daily_svg_narrow}}}</div></div>
    <details>
      <summary>Table of the days</summary>
      <div class="scroll">
      <table>
        <thead><tr><th scope="col">Day (UTC)</th><th scope="col">Clicks</th><th scope="col">Visited clicks</th><th scope="col">Conversions</th><th scope="col">Orphan visits</th></tr></thead>
        <tbody>
        {{#daily}}<tr data-day="{{day}}"><td>{{day}}</td><td data-value="{{clicks_value}}">{{clicks}}</td><td data-value="{{visited_value}}">{{visited_clicks}}</td><td data-value="{{conversions_value}}">{{conversions}}</td><td data-value="{{orphans_value}}">{{orphan_visits}}</td></tr>
        {{/daily}}
        </tbody>
      </table>
      </div>
    </details>
  </section>
  <div class="grid2">
    {{#breakdowns}}
    <section class="panel" data-breakdown="{{key}}">
      <h2>{{title}}</h2>
      <p class="help">{{help}}</p>
      <div class="scroll">
      <table>
        <thead><tr><th scope="col">{{key}}</th><th scope="col">Clicks</th><th scope="col">Visited</th>{{^orphans}}<th scope="col">Visit rate</th>{{/orphans}}<th scope="col">Conv.</th><th scope="col">Value</th>{{#orphans}}<th scope="col">Orphans</th>{{/orphans}}</tr></thead>
        <tbody>
        {{#rows}}
        <tr data-key="{{key_value}}">
          <td class="name{{#missing}} missing{{/missing}}" title="{{name}}">{{name}}<span class="bar" style="width: {{share}}%"></span></td>
          <td data-col="clicks" data-value="{{clicks_value}}">{{clicks}}</td>
          <td data-col="visited_clicks" data-value="{{visited_value}}">{{visited_clicks}}</td>
          {{^orphans}}<td data-col="visit_rate" data-value="{{visit_rate_value}}">{{visit_rate}}</td>{{/orphans}}
          <td data-col="conversions" data-value="{{conversions_value}}">{{conversions}}</td>
          <td class="value" data-col="conversion_value" data-value="{{conversion_value}}">{{conversion_value_shown}}</td>
          {{#orphans}}<td data-col="orphan_visits" data-value="{{orphans_value}}">{{orphan_visits}}</td>{{/orphans}}
        </tr>
        {{/rows}}
        </tbody>
      </table>
      </div>
    </section>
    {{/breakdowns}}
  </div>
  <section class="panel">
    <h2>Latest clicks</h2>
    <p class="help">The {{latest_count}} newest clicks of these days, as <code>report clicks</code> lists them.</p>
    <div class="scroll">
    <table>
      <thead><tr><th scope="col">Clicked (UTC)</th><th scope="col" class="text">Click id</th><th scope="col" class="text">Product</th><th scope="col" class="text">Component</th><th scope="col" class="text">Status</th><th scope="col">Latency</th><th scope="col">Conv.</th><th scope="col">Value</th></tr></thead>
      <tbody>
      {{#latest}}
      <tr data-click-id="{{click_id}}">
        <td>{{clicked_at}}</td><td class="name text" title="{{click_id}}">{{click_id}}</td><td class="name text">{{product_id}}</td><td class="text">{{click_component}}</td>
        <td class="text"><span class="status {{status}}">{{status_label}}</span></td><td>{{latency}}</td><td>{{conversions}}</td><td class="value">{{conversion_value}}</td>
      </tr>
      {{/latest}}
      </tbody>
    </table>
    </div>
  </section>
  {{/empty}}
  <footer>Days are UTC click days. Every figure equals <code>{{report_command}}</code> (add <code>--group-by day</code>, <code>product_id</code>, <code>click_component</code>, <code>slug</code> or <code>waba_id</code> for the tables).</footer>
  {{/range_error}}
</main>
</body>
</html>

"""#,
        "dashboard_style": #"""
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<style>
  :root { --ink: #1d2b24; --muted: #4a5a52; --line: #dde3e0; --accent: #1f6f54; --panel: #fff; --bg: #f4f6f5; --warn: #b3261e; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); line-height: 1.4; }
  header { background: var(--accent); color: #fff; padding: .8rem 1.2rem; display: flex; flex-wrap: wrap; gap: .6rem 1.2rem; align-items: center; justify-content: space-between; }
  header h1 { font-size: 1.15rem; margin: 0; font-weight: 650; letter-spacing: .01em; }
  header form { margin: 0; }
  header button { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.7); border-radius: .4rem; padding: .35rem .8rem; font: inherit; cursor: pointer; }
  main { max-width: 1180px; margin: 0 auto; padding: 1rem 1.2rem 2.5rem; }
  .panel { background: var(--panel); border: 1px solid var(--line); border-radius: .6rem; padding: 1rem 1.1rem; margin-top: 1rem; }
  .panel h2 { font-size: 1.02rem; margin: 0 0 .2rem; }
  .panel p.help { margin: 0 0 .6rem; color: var(--muted); font-size: .88rem; }
  form.range { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: end; }
  form.range label { display: grid; gap: .2rem; font-size: .85rem; color: var(--muted); }
  form.range input { font: inherit; padding: .35rem .5rem; border: 1px solid #b8c4be; border-radius: .35rem; }
  form.range button, a.button { font: inherit; padding: .42rem .9rem; border-radius: .35rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; }
  a.button.secondary { background: #fff; color: var(--accent); }
  .downloads { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .8rem; align-items: center; font-size: .9rem; }
  .kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: .7rem; margin-top: 1rem; }
  .kpi { background: var(--panel); border: 1px solid var(--line); border-radius: .6rem; padding: .7rem .85rem; }
  .kpi .label { font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
  .kpi[data-name=conversion_value] .figure { font-size: 1.05rem; }
  .kpi .figure { font-size: 1.45rem; font-weight: 650; font-variant-numeric: tabular-nums; margin-top: .15rem; overflow-wrap: anywhere; }
  .kpi .note { font-size: .78rem; color: var(--muted); }
  .chart svg { display: block; width: 100%; height: auto; }
  .chart .narrow { display: none; }
  @media (max-width: 700px) { .chart .wide { display: none; } .chart .narrow { display: block; } }
  .grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 0 1rem; }
  .grid2 > * { min-width: 0; }
  @media (max-width: 820px) { .grid2 { grid-template-columns: 1fr; } }
  table { width: 100%; border-collapse: collapse; font-size: .88rem; font-variant-numeric: tabular-nums; }
  th, td { text-align: right; padding: .32rem .45rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th:first-child, td:first-child, th.text, td.text { text-align: left; }
  th { font-weight: 600; color: var(--muted); font-size: .8rem; }
  td.value { white-space: normal; min-width: 6.5rem; }
  td.name { max-width: 16rem; overflow: hidden; text-overflow: ellipsis; }
  td.missing { color: var(--muted); font-style: italic; }
  .bar { display: block; height: .35rem; background: var(--accent); border-radius: .2rem; margin-top: .15rem; }
  .scroll { overflow-x: auto; }
  .status { display: inline-block; padding: .05rem .45rem; border-radius: .8rem; font-size: .78rem; border: 1px solid; }
  .status.visited { color: #145c3f; border-color: #7cc3a3; background: #e6f5ee; }
  .status.clicked_only { color: #5b4a00; border-color: #d7c06a; background: #fbf5dc; }
  .status.outside_window { color: #6b2b23; border-color: #e0a59c; background: #fbebe8; }
  .status::before { margin-right: .25rem; }
  .status.visited::before { content: "✓"; }
  .status.clicked_only::before { content: "…"; }
  .status.outside_window::before { content: "⏱"; }
  .error { border-left: 4px solid var(--warn); background: #fbebe8; padding: .6rem .9rem; border-radius: .3rem; margin-top: 1rem; }
  .empty { text-align: center; padding: 2rem 1rem; }
  .empty code, p code { background: #eef2f0; padding: .1rem .35rem; border-radius: .25rem; }
  details summary { cursor: pointer; color: var(--accent); font-size: .9rem; margin-top: .5rem; }
  footer { color: var(--muted); font-size: .82rem; margin-top: 1.2rem; }
  @media (max-width: 480px) {
    main { padding: .6rem .7rem 2rem; }
    .kpis { grid-template-columns: 1fr 1fr; gap: .5rem; }
    .kpi .figure { font-size: 1.2rem; }
    .panel { padding: .8rem .75rem; }
  }
</style>

"""#,
        "landing": #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="1;url={{destination}}">
<title>Opening the shop…</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f6f5; color: #1d2b24; }
  main { text-align: center; padding: 2rem; }
  a.button { display: inline-block; margin-top: 1rem; padding: .8rem 1.6rem; border-radius: .5rem; background: #1f8f5f; color: #fff; text-decoration: none; font-weight: 600; }
</style>
</head>
<body>
<main>
  <p>Taking you to the shop…</p>
  <a class="button" href="{{destination}}">Continue</a>
</main>
</body>
</html>

"""#,
        "login": #"""
<!doctype html>
<html lang="en">
<head>
<title>clickattr · sign in</title>
{{> dashboard_style}}
</head>
<body>
<header><h1>clickattr · WhatsApp link attribution</h1></header>
<main>
  <section class="panel" style="max-width: 28rem; margin: 2rem auto 0;">
    <h2>Sign in to the dashboard</h2>
    <p class="help">Use one of the service's API keys (<code>api.keys</code>). The session lasts 12 hours on this browser.</p>
    {{#error}}<div class="error" role="alert">{{error}}</div>{{/error}}
    <form class="range" method="post" action="/dashboard/login" style="margin-top: .8rem;">
      <label style="flex: 1 1 14rem;">API key<input type="password" name="key" autocomplete="current-password" required autofocus></label>
      <button type="submit">Sign in</button>
    </form>
  </section>
</main>
</body>
</html>

"""#,
    ]
}
