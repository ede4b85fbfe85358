//! The client commands' arguments (clap), kept apart from `serve`'s.

use clap::{Args, Subcommand};

use super::output::Format;

/// Where to connect, overriding what `berth login` stored.
#[derive(Debug, Clone, Args)]
pub struct ClientOpts {
    /// Server URL [default: the one `berth login` stored].
    #[arg(long, env = "BERTH_SERVER")]
    pub server: Option<String>,
    /// API token [default: the one `berth login` stored].
    #[arg(long, env = "BERTH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Accept any TLS certificate from the server.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

#[derive(Debug, Clone, Args)]
pub struct OutputOpt {
    /// Output format: table, json, yaml or name.
    #[arg(short = 'o', long = "output", default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server, for example http://127.0.0.1:5000.
    pub url: String,
    /// User name (not needed with --token).
    #[arg(short = 'u', long = "username")]
    pub user: Option<String>,
    /// Password; without it (and without --token) it is asked for, or read from standard input.
    #[arg(short = 'p', long = "password", conflicts_with_all = ["password_stdin", "token"])]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "token")]
    pub password_stdin: bool,
    /// Log in with an existing API token instead of a password.
    #[arg(long)]
    pub token: Option<String>,
    /// Accept any TLS certificate from the server.
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
}

#[derive(Debug, Args)]
pub struct WhoamiArgs {
    /// Print the token instead of the user name.
    #[arg(short = 't', long = "show-token")]
    pub show_token: bool,
    #[command(flatten)]
    pub client: ClientOpts,
}

#[derive(Debug, Args)]
pub struct NewProjectArgs {
    pub name: String,
    #[command(flatten)]
    pub output: OutputOpt,
    #[command(flatten)]
    pub client: ClientOpts,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// projects, users, serviceaccounts (sa), tokens, rolebindings, clusterrolebindings,
    /// clusterroles, imagestreams (is), imagestreamtags (istag), imagestreamimages (isimage),
    /// images, triggers (imagechangetriggers), notifications.
    pub resource: String,
    /// One object by name.
    pub name: Option<String>,
    /// Project (tokens: those of its service accounts).
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// Image streams of every project you may see.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Only objects whose labels match (image streams), e.g. `app=web,tier!=db`.
    #[arg(short = 'l', long = "selector")]
    pub selector: Option<String>,
    /// After listing, keep printing changes as they happen (image streams, images).
    #[arg(short = 'w', long = "watch")]
    pub watch: bool,
    #[command(flatten)]
    pub output: OutputOpt,
    #[command(flatten)]
    pub client: ClientOpts,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// project, user, serviceaccount (sa), token, rolebinding, clusterrolebinding, imagestream
    /// (is), imagestreamtag (istag), image, trigger.
    pub resource: String,
    pub name: String,
    /// Project (for service accounts and role bindings).
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub client: ClientOpts,
}

#[derive(Debug, Subcommand)]
pub enum CreateCommand {
    /// Create an image change trigger: URL receives the new image whenever STREAM:TAG changes.
    Trigger {
        name: String,
        /// The image stream tag to watch, STREAM:TAG.
        #[arg(long)]
        from: String,
        /// The webhook that receives the new image (http:// or https://).
        #[arg(long)]
        url: String,
        /// A header to send, NAME=VALUE (repeatable).
        #[arg(long = "header")]
        headers: Vec<String>,
        /// Project.
        #[arg(short = 'n', long = "namespace", required = true)]
        namespace: String,
        #[command(flatten)]
        output: OutputOpt,
        #[command(flatten)]
        client: ClientOpts,
    },
    /// Create a user (cluster-admin).
    User {
        name: String,
        /// The user's password; without one it logs in with tokens only.
        #[arg(long)]
        password: Option<String>,
        #[command(flatten)]
        output: OutputOpt,
        #[command(flatten)]
        client: ClientOpts,
    },
    /// Create a service account in a project.
    #[command(visible_alias = "sa")]
    Serviceaccount {
        name: String,
        /// Project.
        #[arg(short = 'n', long = "namespace", required = true)]
        namespace: String,
        #[command(flatten)]
        output: OutputOpt,
        #[command(flatten)]
        client: ClientOpts,
    },
    /// Create an API token for a user, or for serviceaccount/NAME with -n; prints the token.
    Token {
        /// USER, or serviceaccount/NAME (with -n PROJECT) [default: yourself].
        target: Option<String>,
        /// Project of the service account.
        #[arg(short = 'n', long = "namespace")]
        namespace: Option<String>,
        /// Lifetime, for example 24h or 30d (at least 1s) [default: does not expire].
        #[arg(long)]
        duration: Option<humantime::Duration>,
        #[command(flatten)]
        client: ClientOpts,
    },
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    pub role: String,
    /// The user (or system:serviceaccount:PROJECT:NAME) or group.
    pub subject: String,
    /// Project.
    #[arg(short = 'n', long = "namespace", required = true)]
    pub namespace: String,
    #[command(flatten)]
    pub client: ClientOpts,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Bind a role in a project to a user.
    AddRoleToUser(RoleArgs),
    /// Bind a role in a project to a group.
    AddRoleToGroup(RoleArgs),
    /// Remove a user from a role's binding in a project.
    RemoveRoleFromUser(RoleArgs),
    /// Remove a group from a role's binding in a project.
    RemoveRoleFromGroup(RoleArgs),
}

#[derive(Debug, Args)]
pub struct ClusterRoleArgs {
    pub role: String,
    /// The user (or system:serviceaccount:PROJECT:NAME) or group.
    pub subject: String,
    #[command(flatten)]
    pub client: ClientOpts,
}

#[derive(Debug, Subcommand)]
pub enum AdmPolicyCommand {
    /// Bind a role cluster-wide to a user.
    AddClusterRoleToUser(ClusterRoleArgs),
    /// Bind a role cluster-wide to a group.
    AddClusterRoleToGroup(ClusterRoleArgs),
    /// Remove a user from a cluster-wide binding.
    RemoveClusterRoleFromUser(ClusterRoleArgs),
    /// Remove a group from a cluster-wide binding.
    RemoveClusterRoleFromGroup(ClusterRoleArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdmCommand {
    /// Cluster-wide role bindings.
    #[command(subcommand)]
    Policy(AdmPolicyCommand),
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// SOURCE DESTINATION: `[PROJECT/]STREAM:TAG` or `[PROJECT/]STREAM@DIGEST`, then
    /// `[PROJECT/]STREAM:TAG`; with -d, the tags to delete.
    #[arg(required = true)]
    pub refs: Vec<String>,
    /// Delete the given tags instead.
    #[arg(short = 'd', long = "delete")]
    pub delete: bool,
    /// Make the destination follow the source tag (an alias) instead of copying its current
    /// image.
    #[arg(long)]
    pub alias: bool,
    /// What the source is: `istag` (default), `isimage`, or `docker` (a pull spec such as
    /// quay.io/org/app:1 or HOST/PROJECT/STREAM:TAG of this registry).
    #[arg(long, default_value = "istag")]
    pub source: String,
    /// Project of names given without one.
    #[arg(short = 'n', long = "namespace", required = true)]
    pub namespace: String,
    #[command(flatten)]
    pub client: ClientOpts,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// STREAM:TAG to roll back.
    pub target: String,
    /// Project.
    #[arg(short = 'n', long = "namespace", required = true)]
    pub namespace: String,
    /// How many revisions back (1: the one before the current one).
    #[arg(long, conflicts_with = "to")]
    pub to_revision: Option<usize>,
    /// The digest to make current again.
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub client: ClientOpts,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// is (imagestream).
    pub resource: String,
    pub name: String,
    /// Project.
    #[arg(short = 'n', long = "namespace", required = true)]
    pub namespace: String,
    #[command(flatten)]
    pub client: ClientOpts,
}

/// Every client command; `berth`'s command line flattens these beside `serve`.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Log in to a Berth server; the server and an API token are kept in
    /// $XDG_CONFIG_HOME/berth/config.yaml (mode 0600).
    Login(LoginArgs),
    /// Revoke the stored token on the server and forget it.
    Logout(ClientOpts),
    /// Print who you are logged in as (-t: the token, for podman login -p).
    Whoami(WhoamiArgs),
    /// Create a project; you become its admin.
    NewProject(NewProjectArgs),
    /// List or show objects (-w: then watch them change): projects, users, serviceaccounts,
    /// tokens, rolebindings, clusterrolebindings, clusterroles, imagestreams, imagestreamtags,
    /// imagestreamimages, images, triggers, notifications.
    Get(GetArgs),
    /// Delete an object: project, user, serviceaccount, token, rolebinding, clusterrolebinding,
    /// imagestream, imagestreamtag, image, trigger.
    Delete(DeleteArgs),
    /// Create a user, a service account, an API token or an image change trigger.
    #[command(subcommand)]
    Create(CreateCommand),
    /// Manage role bindings in a project.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Administration: cluster-wide role bindings.
    #[command(subcommand)]
    Adm(AdmCommand),
    /// Point an image stream tag at an image (`berth tag app:v1 app:prod`), or delete tags (-d).
    Tag(TagArgs),
    /// Make an earlier revision of a tag current again, as a new history entry.
    Rollback(RollbackArgs),
    /// Show an image stream: its tags, and each tag's history with ages, digests and sizes.
    Describe(DescribeArgs),
    /// Change fields of an object (image streams) with a JSON merge patch (`--type merge`, the
    /// default) or a JSON patch (`--type json`).
    Patch(PatchArgs),
}

#[derive(Debug, Args)]
pub struct PatchArgs {
    /// imagestream (is).
    pub resource: String,
    pub name: String,
    /// The patch, as JSON: an object for merge, an array of operations for json.
    #[arg(short = 'p', long = "patch")]
    pub patch: String,
    /// merge (RFC 7386; also accepts strategic) or json (RFC 6902).
    #[arg(long = "type", default_value = "merge")]
    pub patch_type: String,
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub output: OutputOpt,
    #[command(flatten)]
    pub client: ClientOpts,
}
