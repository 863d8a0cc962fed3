//! Colours and styles in one place, chosen to read on dark and light terminals
//! (the 16 ANSI colours only, so the terminal's own palette applies).

use ratatui::style::{Color, Modifier, Style};

use crate::domain::{
    AlarmState, BackupStatus, DeploymentStatus, Health, InstanceState, ReleasePhase, Severity,
    StageStatus, StepStatus, TargetHealth,
};

pub const OK: Color = Color::Green;
pub const WARN: Color = Color::Yellow;
pub const BAD: Color = Color::Red;
pub const ACCENT: Color = Color::Cyan;
pub const DIM: Color = Color::DarkGray;

pub fn ok() -> Style {
    Style::new().fg(OK)
}
pub fn warn() -> Style {
    Style::new().fg(WARN)
}
pub fn bad() -> Style {
    Style::new().fg(BAD)
}
pub fn dim() -> Style {
    Style::new().fg(DIM)
}
pub fn accent() -> Style {
    Style::new().fg(ACCENT)
}
pub fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}
pub fn title() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}
pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}
pub fn header() -> Style {
    Style::new().fg(DIM).add_modifier(Modifier::BOLD)
}
pub fn key() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}

pub fn instance_state(s: InstanceState) -> Style {
    match s {
        InstanceState::InService => ok(),
        InstanceState::Pending => warn(),
        InstanceState::Standby => dim(),
        InstanceState::Terminating | InstanceState::Terminated => bad(),
    }
}

pub fn health(h: Health) -> Style {
    match h {
        Health::Healthy => ok(),
        Health::Unhealthy => bad(),
        Health::Unknown => warn(),
    }
}

pub fn target_health(h: TargetHealth) -> Style {
    match h {
        TargetHealth::Healthy => ok(),
        TargetHealth::Unhealthy | TargetHealth::Unavailable => bad(),
        TargetHealth::Initial | TargetHealth::Draining => warn(),
        TargetHealth::Unused => dim(),
    }
}

pub fn db_status(s: &str) -> Style {
    match s {
        "available" => ok(),
        "failed"
        | "incompatible-restore"
        | "incompatible-parameters"
        | "storage-full"
        | "stopped" => bad(),
        _ => warn(),
    }
}

pub fn alarm(s: AlarmState) -> Style {
    match s {
        AlarmState::Ok => ok(),
        AlarmState::Alarm => bad().add_modifier(Modifier::BOLD),
        AlarmState::InsufficientData => dim(),
    }
}

pub fn deployment(s: DeploymentStatus) -> Style {
    match s {
        DeploymentStatus::Succeeded => ok(),
        DeploymentStatus::Failed => bad(),
        DeploymentStatus::Stopped => warn(),
        _ => accent().add_modifier(Modifier::BOLD),
    }
}

/// A release stage; the running one stands out (bold, underlined).
pub fn stage(s: StageStatus) -> Style {
    match s {
        StageStatus::Succeeded => ok(),
        StageStatus::Failed => bad(),
        StageStatus::RolledBack => warn(),
        StageStatus::InProgress => accent().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        StageStatus::Skipped => dim(),
        StageStatus::Pending => Style::new(),
    }
}

pub fn phase(p: ReleasePhase) -> Style {
    match p {
        ReleasePhase::Succeeded => ok(),
        ReleasePhase::Failed => bad(),
        ReleasePhase::RolledBack | ReleasePhase::Stopped => warn(),
        ReleasePhase::RollingBack => warn().add_modifier(Modifier::BOLD),
        ReleasePhase::Deploying | ReleasePhase::Baking => accent().add_modifier(Modifier::BOLD),
    }
}

pub fn step(s: StepStatus) -> Style {
    match s {
        StepStatus::Succeeded => ok(),
        StepStatus::Failed => bad(),
        StepStatus::InProgress => accent().add_modifier(Modifier::BOLD),
        StepStatus::Skipped | StepStatus::Unknown => dim(),
        StepStatus::Pending => Style::new(),
    }
}

pub fn step_symbol(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Succeeded => "✔",
        StepStatus::Failed => "✘",
        StepStatus::InProgress => "●",
        StepStatus::Skipped => "–",
        StepStatus::Pending => "·",
        StepStatus::Unknown => "?",
    }
}

pub fn backup(s: BackupStatus) -> Style {
    match s {
        BackupStatus::Available => ok(),
        BackupStatus::Creating => accent(),
        BackupStatus::Failed => bad(),
        BackupStatus::Deleting | BackupStatus::Expired => dim(),
    }
}

pub fn severity(s: Severity) -> Style {
    match s {
        Severity::Error => bad(),
        Severity::Warn => warn(),
        Severity::Info => Style::new(),
        Severity::Debug => dim(),
    }
}

/// The environment badge: production stands out.
pub fn env_badge(production: bool, demo: bool) -> Style {
    let bg = if production {
        Color::Red
    } else if demo {
        Color::Blue
    } else {
        Color::Yellow
    };
    Style::new()
        .bg(bg)
        .fg(Color::Black)
        .add_modifier(Modifier::BOLD)
}
