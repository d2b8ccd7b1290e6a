//! Finding what a `Pkcs11Uri` names: the module (loaded and initialized once
//! per process), the tokens that match, the login with the PIN, the private
//! key and its certificate; and every failure as an error that says what to
//! do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::object::{Attribute, AttributeType, CertificateType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::AuthPin;
use rustls::pki_types::CertificateDer;
use sock_core::{Error, Result};

use super::Pkcs11Uri;
use crate::pem;

/// One logged-in (or public) session on one token, shared by the keys
/// found there. PKCS#11 sessions are used by one thread at a time.
pub(crate) struct Token {
    pub(crate) label: String,
    pub(crate) slot: Slot,
    pub(crate) pkcs11: Pkcs11,
    pub(crate) session: Mutex<Session>,
    /// For keys that ask for the PIN before every signature
    /// (`CKA_ALWAYS_AUTHENTICATE`).
    pub(crate) pin: Option<String>,
    pub(crate) logged_in: bool,
}

impl Token {
    /// `pkcs#11 token "label"`, for messages.
    pub(crate) fn what(&self) -> String {
        format!("pkcs#11 token {:?}", self.label)
    }

    pub(crate) fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The modules loaded so far, by path. A module is initialized once and
/// never finalized: finalizing would end every other user's sessions.
fn module(path: &Path) -> Result<Pkcs11> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut modules = MODULES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(module) = modules.get(path) {
        return Ok(module.clone());
    }
    let what = format!("pkcs#11 module {:?}", path.display().to_string());
    if !path.is_file() && path.components().count() > 1 {
        return Err(pem::invalid(
            &what,
            "no such file: give the path of the token's PKCS#11 library \
             (for SoftHSM2, /usr/lib/softhsm/libsofthsm2.so)",
            None,
        ));
    }
    let pkcs11 = Pkcs11::new(path).map_err(|e| {
        pem::invalid(
            &what,
            "could not load it as a PKCS#11 library",
            Some(Box::new(e)),
        )
    })?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(pem::invalid(
                &what,
                "could not initialize it",
                Some(Box::new(e)),
            ))
        }
    }
    modules.insert(path.to_owned(), pkcs11.clone());
    Ok(pkcs11)
}

/// The tokens `uri` names, each opened (and logged in when there is a PIN).
pub(crate) fn open(uri: &Pkcs11Uri) -> Result<Vec<Arc<Token>>> {
    let shown = uri.to_string();
    let Some(path) = uri.module() else {
        return Err(pem::invalid(
            &format!("pkcs#11 uri {shown:?}"),
            "it names no module: add module-path (the token's PKCS#11 library)",
            None,
        ));
    };
    let pkcs11 = module(&path)?;
    let what = format!("pkcs#11 module {:?}", path.display().to_string());
    let failed = |e: P11Error| pem::invalid(&what, "could not list its tokens", Some(Box::new(e)));
    if !library_matches(&pkcs11, uri) {
        return Err(pem::invalid(
            &what,
            format!("its library information does not match {shown:?}"),
            None,
        ));
    }
    let pin = uri.resolved_pin()?;
    let mut present = Vec::new();
    let mut tokens = Vec::new();
    for slot in pkcs11.get_slots_with_token().map_err(failed)? {
        let info = pkcs11.get_token_info(slot).map_err(failed)?;
        present.push(info.label().to_owned());
        if !token_matches(&pkcs11, slot, &info, uri) {
            continue;
        }
        tokens.push(Arc::new(login(&pkcs11, slot, &info, pin.clone())?));
    }
    if tokens.is_empty() {
        let reason = if present.is_empty() {
            "it has no token present (is the card in the reader, or the token initialized?)"
                .to_owned()
        } else {
            format!("no token matches {shown:?}; tokens present: {present:?}")
        };
        return Err(pem::invalid(&what, reason, None));
    }
    Ok(tokens)
}

fn library_matches(pkcs11: &Pkcs11, uri: &Pkcs11Uri) -> bool {
    if uri.library_manufacturer.is_none()
        && uri.library_description.is_none()
        && uri.library_version.is_none()
    {
        return true;
    }
    let Ok(info) = pkcs11.get_library_info() else {
        return false;
    };
    let version = info.library_version();
    let version = format!("{}.{}", version.major(), version.minor());
    same(&uri.library_manufacturer, info.manufacturer_id())
        && same(&uri.library_description, info.library_description())
        && uri
            .library_version
            .as_ref()
            .is_none_or(|want| *want == version || version.starts_with(&format!("{want}.")))
}

fn same(want: &Option<String>, have: &str) -> bool {
    want.as_ref().is_none_or(|want| want == have.trim_end())
}

fn token_matches(pkcs11: &Pkcs11, slot: Slot, info: &TokenInfo, uri: &Pkcs11Uri) -> bool {
    let token = same(&uri.token, info.label())
        && same(&uri.manufacturer, info.manufacturer_id())
        && same(&uri.serial, info.serial_number())
        && same(&uri.model, info.model())
        && uri.slot_id.is_none_or(|id| id == slot.id());
    if !token || (uri.slot_description.is_none() && uri.slot_manufacturer.is_none()) {
        return token;
    }
    pkcs11.get_slot_info(slot).is_ok_and(|slot| {
        same(&uri.slot_description, slot.slot_description())
            && same(&uri.slot_manufacturer, slot.manufacturer_id())
    })
}

/// Opens a session and logs in: with the PIN given, or through the reader's
/// PIN pad, or not at all (public objects only).
fn login(pkcs11: &Pkcs11, slot: Slot, info: &TokenInfo, pin: Option<String>) -> Result<Token> {
    let label = info.label().to_owned();
    let what = format!("pkcs#11 token {label:?}");
    let session = pkcs11
        .open_ro_session(slot)
        .map_err(|e| pem::invalid(&what, "could not open a session", Some(Box::new(e))))?;
    let mut token = Token {
        label,
        slot,
        pkcs11: pkcs11.clone(),
        session: Mutex::new(session),
        pin: pin.clone(),
        logged_in: false,
    };
    if info.user_pin_locked() {
        return Err(locked(&what));
    }
    let result = match (&pin, info.protected_authentication_path()) {
        (Some(pin), _) => token
            .session()
            .login(UserType::User, Some(&AuthPin::new(pin.clone().into()))),
        (None, true) => token.session().login(UserType::User, None),
        (None, false) => return Ok(token),
    };
    match result {
        Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
            token.logged_in = true;
            Ok(token)
        }
        Err(e) => Err(login_error(e, &what, pkcs11, slot)),
    }
}

const LOCKED: &str = "its user PIN is locked after too many wrong PINs; \
     unlock it with the security officer's PIN (for example `pkcs11-tool --unlock-pin`)";

fn locked(what: &str) -> Error {
    pem::invalid(what, LOCKED, None)
}

/// Why a login failed, with how many tries are left when the token says.
pub(crate) fn login_error(e: P11Error, what: &str, pkcs11: &Pkcs11, slot: Slot) -> Error {
    let rv = match &e {
        P11Error::Pkcs11(rv, _) => Some(*rv),
        _ => None,
    };
    let flags = pkcs11.get_token_info(slot).ok().map(|info| PinFlags {
        locked: info.user_pin_locked(),
        final_try: info.user_pin_final_try(),
        count_low: info.user_pin_count_low(),
    });
    pem::invalid(what, login_reason(rv, flags), Some(Box::new(e)))
}

/// What the token says about its user PIN after a failed login.
#[derive(Debug, Clone, Copy, Default)]
struct PinFlags {
    locked: bool,
    final_try: bool,
    count_low: bool,
}

fn login_reason(rv: Option<RvError>, flags: Option<PinFlags>) -> String {
    match rv {
        Some(RvError::PinIncorrect) => {
            let left = match flags.unwrap_or_default() {
                PinFlags { locked: true, .. } => "; the PIN is now locked (too many wrong PINs)",
                PinFlags {
                    final_try: true, ..
                } => "; one try is left before the PIN locks",
                PinFlags {
                    count_low: true, ..
                } => "; few tries may be left before the PIN locks",
                _ => "",
            };
            format!("wrong PIN{left}")
        }
        Some(RvError::PinLocked) => LOCKED.to_owned(),
        Some(RvError::PinLenRange) => "the PIN is too short or too long for this token".to_owned(),
        Some(RvError::PinExpired) => "the PIN has expired; set a new one".to_owned(),
        Some(RvError::UserPinNotInitialized) => {
            "the token has no user PIN yet; initialize it".to_owned()
        }
        _ => "could not log in".to_owned(),
    }
}

/// Objects of `class` with the label and id `uri` asks for.
pub(crate) fn find(
    token: &Token,
    class: ObjectClass,
    uri: &Pkcs11Uri,
) -> Result<Vec<ObjectHandle>> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(object) = &uri.object {
        template.push(Attribute::Label(object.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    find_with(token, &template)
}

fn find_with(token: &Token, template: &[Attribute]) -> Result<Vec<ObjectHandle>> {
    token
        .session()
        .find_objects(template)
        .map_err(|e| pem::invalid(&token.what(), "could not search it", Some(Box::new(e))))
}

/// An object's `CKA_ID` and label (empty when it has none).
pub(crate) fn labels(token: &Token, object: ObjectHandle) -> (Vec<u8>, String) {
    let attributes = token
        .session()
        .get_attributes(object, &[AttributeType::Id, AttributeType::Label])
        .unwrap_or_default();
    let mut id = Vec::new();
    let mut label = String::new();
    for attribute in attributes {
        match attribute {
            Attribute::Id(value) => id = value,
            Attribute::Label(value) => label = String::from_utf8_lossy(&value).into_owned(),
            _ => {}
        }
    }
    (id, label)
}

/// Objects of `class` that belong with (`id`, `label`): the same `CKA_ID`
/// when there is one, else the same label.
pub(crate) fn partners(
    token: &Token,
    class: ObjectClass,
    id: &[u8],
    label: &str,
) -> Result<Vec<ObjectHandle>> {
    let mut template = vec![Attribute::Class(class)];
    if id.is_empty() {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    } else {
        template.push(Attribute::Id(id.to_vec()));
    }
    find_with(token, &template)
}

/// Every X.509 certificate on the token, with its handle.
pub(crate) fn certificates(token: &Token) -> Result<Vec<(ObjectHandle, CertificateDer<'static>)>> {
    let handles = find_with(
        token,
        &[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
        ],
    )?;
    let mut out = Vec::new();
    for handle in handles {
        let value = token
            .session()
            .get_attributes(handle, &[AttributeType::Value])
            .map_err(|e| {
                pem::invalid(
                    &token.what(),
                    "could not read a certificate",
                    Some(Box::new(e)),
                )
            })?;
        if let Some(Attribute::Value(der)) = value.into_iter().next() {
            out.push((handle, CertificateDer::from(der)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_failures_say_what_to_do() {
        let wrong = Some(RvError::PinIncorrect);
        assert_eq!(login_reason(wrong, None), "wrong PIN");
        let last = PinFlags {
            final_try: true,
            count_low: true,
            ..PinFlags::default()
        };
        assert_eq!(
            login_reason(wrong, Some(last)),
            "wrong PIN; one try is left before the PIN locks"
        );
        let now_locked = PinFlags {
            locked: true,
            ..PinFlags::default()
        };
        assert!(login_reason(wrong, Some(now_locked)).contains("now locked"));
        // A token that refuses because its PIN is locked (SoftHSM2 never
        // locks, so this is checked here rather than against a token).
        let locked = login_reason(Some(RvError::PinLocked), None);
        assert!(
            locked.contains("locked") && locked.contains("--unlock-pin"),
            "{locked}"
        );
        assert!(login_reason(Some(RvError::PinLenRange), None).contains("too short"));
        assert_eq!(
            login_reason(Some(RvError::GeneralError), None),
            "could not log in"
        );
    }
}
