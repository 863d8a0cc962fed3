use serde::{Deserialize, Serialize};

/// The `Tier` tag of the naming contract (design section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Edge,
    Web,
    Bastion,
    Database,
    Storage,
    Delivery,
    Observability,
    Backup,
    Network,
}

impl Tier {
    pub const ALL: [Tier; 9] = [
        Tier::Edge,
        Tier::Web,
        Tier::Bastion,
        Tier::Database,
        Tier::Storage,
        Tier::Delivery,
        Tier::Observability,
        Tier::Backup,
        Tier::Network,
    ];

    /// Tiers that are Auto Scaling groups, and so can be scaled, started and stopped.
    pub const SCALABLE: [Tier; 2] = [Tier::Web, Tier::Bastion];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Edge => "edge",
            Tier::Web => "web",
            Tier::Bastion => "bastion",
            Tier::Database => "database",
            Tier::Storage => "storage",
            Tier::Delivery => "delivery",
            Tier::Observability => "observability",
            Tier::Backup => "backup",
            Tier::Network => "network",
        }
    }

    pub fn is_scalable(self) -> bool {
        Self::SCALABLE.contains(&self)
    }

    /// Parses a tier that can be scaled, naming the valid choices when it cannot.
    pub fn parse_scalable(s: &str) -> Result<Tier, String> {
        let choices = Self::SCALABLE.map(Tier::as_str).join(", ");
        match s.parse::<Tier>() {
            Ok(t) if t.is_scalable() => Ok(t),
            Ok(t) => Err(format!(
                "tier '{}' is not an Auto Scaling group; scalable tiers: {choices}",
                t.as_str()
            )),
            Err(_) => Err(format!("unknown tier '{s}'; scalable tiers: {choices}")),
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown tier '{s}'; choose one of: {}",
                    Tier::ALL.map(Tier::as_str).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_round_trip() {
        for t in Tier::ALL {
            assert_eq!(t.as_str().parse::<Tier>().unwrap(), t);
        }
    }

    #[test]
    fn scalable_parse_names_the_choices() {
        assert_eq!(Tier::parse_scalable("web").unwrap(), Tier::Web);
        let e = Tier::parse_scalable("database").unwrap_err();
        assert!(
            e.contains("not an Auto Scaling group") && e.contains("web, bastion"),
            "{e}"
        );
        let e = Tier::parse_scalable("wbe").unwrap_err();
        assert!(
            e.contains("unknown tier 'wbe'") && e.contains("web, bastion"),
            "{e}"
        );
    }
}
