//! Nothing lost: hand edits that are not saved in a project are never dropped without
//! asking. Opening another file or closing the window first asks whether to save the
//! project, discard the edits or cancel (a modal; Escape cancels).

use eframe::egui;

use super::commands::{Command, UnsavedChoice};

/// What waits for the user's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Pending {
    /// Open this file (an `Open…` command).
    Open(Command),
    /// Close the window.
    Close,
}

/// The prompt's state, owned by the app.
#[derive(Debug, Default)]
pub struct UnsavedState {
    /// Asked now (the modal is shown while set).
    pub prompt: Option<Pending>,
    /// Goes ahead once the project save the user chose in the prompt has succeeded.
    pub after_save: Option<Pending>,
    /// The user agreed to lose the edits: the next open or close goes ahead.
    pub discard_confirmed: bool,
    /// (document id, edits version) being written by the running project save.
    pub saving: Option<(u64, u64)>,
}

impl UnsavedState {
    /// The modal while a prompt is pending; `document` names the edited file.
    pub fn ui(&self, ctx: &egui::Context, document: &str, commands: &mut Vec<Command>) {
        let Some(pending) = &self.prompt else {
            return;
        };
        let consequence = match pending {
            Pending::Open(_) => "Opening another file discards them.".to_owned(),
            Pending::Close => "Closing relievo discards them.".to_owned(),
        };
        let response = egui::Modal::new(egui::Id::unique("unsaved edits")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading("Unsaved hand edits");
            ui.label(format!(
                "{document} has hand edits that are not saved in a project. {consequence}"
            ));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Save project…").clicked() {
                    commands.push(Command::ResolveUnsaved(UnsavedChoice::Save));
                }
                if ui.button("Discard edits").clicked() {
                    commands.push(Command::ResolveUnsaved(UnsavedChoice::Discard));
                }
                if ui.button("Cancel").clicked() {
                    commands.push(Command::ResolveUnsaved(UnsavedChoice::Cancel));
                }
            });
        });
        if response.should_close() {
            commands.push(Command::ResolveUnsaved(UnsavedChoice::Cancel));
        }
    }
}
