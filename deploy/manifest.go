// Package deploy holds the deployment files: Kubernetes manifests and the
// GitHub App manifest, which the service's GET /setup posts to GitHub.
package deploy

import _ "embed"

// GitHubAppManifest is github-app-manifest.json: the App's name,
// permissions and events. GET /setup fills in its webhook and redirect
// URLs from PUBLIC_URL.
//
//go:embed github-app-manifest.json
var GitHubAppManifest []byte
