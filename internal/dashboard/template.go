package dashboard

import "html/template"

// pageTemplate is the whole page. html/template escapes every value by
// context (text, attribute, URL); URLs reach href only after isWebURL said
// they are http(s), and html/template would still neutralise anything else.
var pageTemplate = template.Must(template.New("dashboard").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .RefreshSecs}}<meta http-equiv="refresh" content="{{.RefreshSecs}}">{{end}}
<title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem;color:#1f2328;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.err{color:#cf222e;max-width:32rem;overflow-wrap:anywhere}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.tone-good{color:#1a7f37;font-weight:600}.tone-bad{color:#cf222e;font-weight:600}.tone-busy{color:#9a6700;font-weight:600}.tone-dim{color:#656d76}
.muted{color:#656d76}.queue td{width:8rem}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="muted">Generated {{.GeneratedAt}}{{if .RefreshSecs}}; refreshes every {{.RefreshSecs}} s{{end}}.</p>
{{with .App}}
<h2>GitHub App</h2>
<p id="app">{{if .Name}}Runs as <strong id="app-name">{{if .URL}}<a href="{{.URL}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</strong>. {{end}}
{{if .LastDelivery}}<span id="last-delivery">Last delivery from GitHub: <span class="tone-good" title="{{.LastTitle}}">{{.LastDelivery}}</span></span>{{else}}<span id="last-delivery" class="tone-busy">No delivery from GitHub yet: install the App, or check its webhook URL and secret.</span>{{end}}</p>
{{if .ListInstalled}}{{if $.Installations}}<table id="installations">
<thead><tr><th>Account</th><th>Repositories</th><th>State</th></tr></thead>
<tbody>
{{range $.Installations}}<tr class="installation">
<td>{{if .AccountURL}}<a href="{{.AccountURL}}">{{.Account}}</a>{{else}}{{.Account}}{{end}}</td>
<td class="repos">{{range $i, $r := .Repositories}}{{if $i}}, {{end}}{{if $r.URL}}<a href="{{$r.URL}}">{{$r.Name}}</a>{{else}}{{$r.Name}}{{end}}{{end}}</td>
<td class="tone-{{.StateTone}}">{{.State}}</td>
</tr>
{{end}}</tbody>
</table>{{else}}<p class="muted" id="no-installations">Not installed anywhere yet.</p>{{end}}{{end}}
{{end}}

<h2>Previews</h2>
{{if .Previews}}
<table id="previews">
<thead><tr><th>Repository</th><th>Pull request</th><th>Branch</th><th>Status</th><th>Endpoint</th><th>Console</th><th>Age</th><th>API changes</th><th>Last error</th></tr></thead>
<tbody>
{{range .Previews}}<tr class="preview">
<td>{{if .RepoURL}}<a href="{{.RepoURL}}">{{.Repo}}</a>{{else}}{{.Repo}}{{end}}</td>
<td>{{if .PRURL}}<a class="pr" href="{{.PRURL}}">{{.PR}}</a>{{else}}{{.PR}}{{end}}{{if .Title}} <span class="muted">{{.Title}}</span>{{end}}</td>
<td><code class="branch">{{.Branch}}</code></td>
<td class="status tone-{{.StatusTone}}">{{.Status}}</td>
<td>{{if .EndpointOK}}<a class="endpoint" href="{{.Endpoint}}">{{.Endpoint}}</a>{{else}}<code>{{.Endpoint}}</code>{{end}}</td>
<td>{{if .ConsoleOK}}<a class="console" href="{{.Console}}">console</a>{{else}}<code>{{.Console}}</code>{{end}}</td>
<td title="{{.AgeTitle}}">{{.Age}}</td>
<td class="api">{{.APIChanges}}</td>
<td class="err">{{.LastError}}</td>
</tr>
{{end}}</tbody>
</table>
{{else}}<p class="muted" id="no-previews">No previews yet. Open a pull request in a repository the App is installed on.</p>{{end}}

<h2>Recent deliveries</h2>
{{if .Deliveries}}
<table id="deliveries">
<thead><tr><th>Received</th><th>Event</th><th>Pull request</th><th>Outcome</th><th>Reason</th></tr></thead>
<tbody>
{{range .Deliveries}}<tr class="delivery">
<td title="{{.TimeTitle}}">{{.Time}}</td>
<td><code>{{.Event}}</code></td>
<td>{{.Repo}}{{if .PR}}{{if .PRURL}}<a href="{{.PRURL}}">{{.PR}}</a>{{else}}{{.PR}}{{end}}{{end}}</td>
<td class="outcome tone-{{.OutcomeTone}}">{{.Outcome}}</td>
<td>{{.Reason}}</td>
</tr>
{{end}}</tbody>
</table>
{{else}}<p class="muted" id="no-deliveries">No deliveries yet.</p>{{end}}

<h2>Queue</h2>
{{if .QueueMissing}}<p class="muted">No queue in this process.</p>
{{else if .QueueError}}<p class="tone-bad">{{.QueueError}}</p>
{{else}}<table class="queue" id="queue"><tbody>
{{range .Queue}}<tr><th>{{.State}}</th><td>{{.Count}}</td></tr>
{{end}}</tbody></table>{{end}}
</body>
</html>
`))
