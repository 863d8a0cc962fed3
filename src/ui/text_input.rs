//! A one-line text field for the palette, filters, prompts and confirmations.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextInput {
    text: String,
    /// Cursor position in characters.
    cursor: usize,
    max_len: usize,
}

impl TextInput {
    pub fn new(max_len: usize) -> TextInput {
        TextInput {
            text: String::new(),
            cursor: 0,
            max_len,
        }
    }

    pub fn with_text(text: &str, max_len: usize) -> TextInput {
        let mut t = TextInput::new(max_len);
        t.set(text);
        t
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn set(&mut self, text: &str) {
        self.text = text.chars().take(self.max_len).collect();
        self.cursor = self.text.chars().count();
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Edits the text with readline's basic keys; returns whether the key was used.
    pub fn handle(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.chars().count(),
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
            }
            KeyCode::Char('w') if ctrl => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && chars[start - 1] != ' ' {
                    start -= 1;
                }
                let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                if self.text.chars().count() < self.max_len {
                    let at = self.byte_at(self.cursor);
                    self.text.insert(at, c);
                    self.cursor += 1;
                }
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
            }
            KeyCode::Delete if self.cursor < self.text.chars().count() => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.chars().count(),
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(t: &mut TextInput, code: KeyCode, mods: KeyModifiers) {
        t.handle(&KeyEvent::new(code, mods));
    }

    #[test]
    fn edits_like_readline_and_respects_unicode_and_limits() {
        let mut t = TextInput::new(8);
        for c in "héllo wö".chars() {
            press(&mut t, KeyCode::Char(c), KeyModifiers::NONE);
        }
        press(&mut t, KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(t.text(), "héllo wö");
        press(&mut t, KeyCode::Char('w'), KeyModifiers::CONTROL);
        assert_eq!(t.text(), "héllo ");
        press(&mut t, KeyCode::Left, KeyModifiers::NONE);
        press(&mut t, KeyCode::Backspace, KeyModifiers::NONE);
        assert_eq!(t.text(), "héll ");
        press(&mut t, KeyCode::Home, KeyModifiers::NONE);
        press(&mut t, KeyCode::Delete, KeyModifiers::NONE);
        assert_eq!(t.text(), "éll ");
        press(&mut t, KeyCode::End, KeyModifiers::NONE);
        press(&mut t, KeyCode::Char('u'), KeyModifiers::CONTROL);
        assert_eq!((t.text(), t.cursor()), ("", 0));
    }
}
