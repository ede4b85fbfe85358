//! The one table of what each role allows, and the one function that decides by it.

/// Something a caller does that access control decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    /// Read manifests, blobs, tags and referrers of a project's repositories.
    Pull,
    /// Push (and delete) manifests, blobs and tags; create image streams by pushing.
    Push,
    /// See the project and its image streams.
    ViewProject,
    /// Manage the project: bindings, service accounts and their tokens, image streams, delete it.
    AdminProject,
    /// Create projects (cluster-wide).
    CreateProject,
    /// Prune images.
    Prune,
    /// Manage users, cluster-wide bindings and every token.
    ManageCluster,
}

impl Verb {
    pub const ALL: [Verb; 7] = [
        Verb::Pull,
        Verb::Push,
        Verb::ViewProject,
        Verb::AdminProject,
        Verb::CreateProject,
        Verb::Prune,
        Verb::ManageCluster,
    ];

    /// How a message names what was refused.
    pub fn describe(self) -> &'static str {
        match self {
            Verb::Pull => "pull from",
            Verb::Push => "push to",
            Verb::ViewProject => "view",
            Verb::AdminProject => "administer",
            Verb::CreateProject => "create projects in",
            Verb::Prune => "prune",
            Verb::ManageCluster => "manage",
        }
    }
}

use Verb::*;

/// Every role and what it allows. A binding in a project allows its verbs there; a cluster-wide
/// binding allows them in every project.
pub const ROLES: &[(&str, &[Verb])] = &[
    ("registry-viewer", &[Pull, ViewProject]),
    ("view", &[Pull, ViewProject]),
    ("system:image-puller", &[Pull]),
    ("registry-editor", &[Pull, Push, ViewProject]),
    ("edit", &[Pull, Push, ViewProject]),
    ("system:image-pusher", &[Pull, Push]),
    ("system:image-builder", &[Pull, Push]),
    ("admin", &[Pull, Push, ViewProject, AdminProject]),
    ("system:registry", &[Pull, Push, ViewProject]),
    ("system:image-pruner", &[Pull, ViewProject, Prune]),
    ("self-provisioner", &[CreateProject]),
    (
        "cluster-admin",
        &[
            Pull,
            Push,
            ViewProject,
            AdminProject,
            CreateProject,
            Prune,
            ManageCluster,
        ],
    ),
];

/// The verbs of `role`; `None` for a role that does not exist.
pub fn role_verbs(role: &str) -> Option<&'static [Verb]> {
    ROLES.iter().find(|(r, _)| *r == role).map(|(_, v)| *v)
}

pub fn is_role(role: &str) -> bool {
    role_verbs(role).is_some()
}

/// The decision: does any of `roles` allow `verb`?
pub fn allows(roles: &[String], verb: Verb) -> bool {
    roles
        .iter()
        .any(|r| role_verbs(r).is_some_and(|v| v.contains(&verb)))
}

/// The roles that allow `verb`, for queries and messages.
pub fn roles_allowing(verb: Verb) -> Vec<&'static str> {
    ROLES
        .iter()
        .filter(|(_, v)| v.contains(&verb))
        .map(|(r, _)| *r)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole matrix, written out: each role against each verb. A change to [`ROLES`] must
    /// change this table too.
    #[test]
    fn every_role_against_every_verb() {
        // Pull, Push, ViewProject, AdminProject, CreateProject, Prune, ManageCluster
        let expected: &[(&str, [bool; 7])] = &[
            (
                "registry-viewer",
                [true, false, true, false, false, false, false],
            ),
            ("view", [true, false, true, false, false, false, false]),
            (
                "system:image-puller",
                [true, false, false, false, false, false, false],
            ),
            (
                "registry-editor",
                [true, true, true, false, false, false, false],
            ),
            ("edit", [true, true, true, false, false, false, false]),
            (
                "system:image-pusher",
                [true, true, false, false, false, false, false],
            ),
            (
                "system:image-builder",
                [true, true, false, false, false, false, false],
            ),
            ("admin", [true, true, true, true, false, false, false]),
            (
                "system:registry",
                [true, true, true, false, false, false, false],
            ),
            (
                "system:image-pruner",
                [true, false, true, false, false, true, false],
            ),
            (
                "self-provisioner",
                [false, false, false, false, true, false, false],
            ),
            ("cluster-admin", [true; 7]),
            ("no-such-role", [false; 7]),
        ];
        assert_eq!(
            expected.len(),
            ROLES.len() + 1,
            "every role is in the matrix"
        );
        for (role, row) in expected {
            for (verb, want) in Verb::ALL.iter().zip(row) {
                assert_eq!(
                    allows(&[role.to_string()], *verb),
                    *want,
                    "{role} × {verb:?}"
                );
            }
        }
        assert!(!allows(&[], Pull));
    }
}
