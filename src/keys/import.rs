//! Reading a VAPID private key someone brings from another tool: PEM (PKCS#8 or SEC1, as
//! openssl writes them) or the raw base64url scalar web-push libraries print. The public
//! key is derived, so it can be compared with the old tool's.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use p256::SecretKey;

/// A usable P-256 key pair, both halves base64url (the private one as the 32-byte scalar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub private_key: String,
    pub public_key: String,
}

impl KeyPair {
    /// Reads `text`; the error says what is wrong in words a person can act on.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Paste a private key: PEM, or the base64url key a web-push library printed.".into());
        }
        let secret = if text.starts_with("-----BEGIN") { from_pem(text)? } else { from_raw(text)? };
        Ok(Self::of(&secret))
    }

    /// A stored private key (base64url scalar).
    pub fn from_stored(private_key: &str) -> Result<Self, String> {
        from_raw(private_key).map(|secret| Self::of(&secret))
    }

    /// A new random key pair.
    pub fn generate() -> Self {
        loop {
            // Almost every 32-byte string is a valid scalar; retry the astronomically rare rest.
            if let Ok(secret) = SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                return Self::of(&secret);
            }
        }
    }

    fn of(secret: &SecretKey) -> Self {
        Self {
            private_key: URL_SAFE_NO_PAD.encode(secret.to_bytes()),
            public_key: URL_SAFE_NO_PAD.encode(secret.public_key().to_sec1_bytes()),
        }
    }

    /// The private key as PKCS#8 PEM, which openssl and every web-push library read.
    pub fn to_pem(&self) -> Result<String, String> {
        let secret = from_raw(&self.private_key)?;
        secret.to_pkcs8_pem(LineEnding::LF).map(|pem| pem.to_string()).map_err(|e| e.to_string())
    }
}

const ID_EC_PUBLIC_KEY: p256::pkcs8::ObjectIdentifier = p256::pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: p256::pkcs8::ObjectIdentifier = p256::pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

fn from_pem(text: &str) -> Result<SecretKey, String> {
    let label = text.lines().next().unwrap_or_default();
    if label.contains("PUBLIC KEY") {
        return Err("This is a public key only: signing needs the private key (-----BEGIN PRIVATE KEY-----).".into());
    }
    if label.contains("ENCRYPTED") {
        return Err("This key is encrypted; decrypt it first: openssl pkey -in key.pem -out plain.pem".into());
    }
    let not_p256 = "This is not a P-256 (prime256v1) key; VAPID keys are always P-256.";
    if label.contains("EC PRIVATE KEY") {
        return SecretKey::from_sec1_pem(text).map_err(|_| format!("The EC key could not be read. {not_p256}"));
    }
    if label.contains("PRIVATE KEY") {
        // Read the structure first, so a cut-off file and a key on another curve get
        // different answers.
        let damaged = || "The key is damaged or cut off.".to_owned();
        let (_, der) = p256::pkcs8::der::pem::decode_vec(text.as_bytes()).map_err(|_| damaged())?;
        let info = p256::pkcs8::PrivateKeyInfo::try_from(der.as_slice()).map_err(|_| damaged())?;
        let elliptic = info.algorithm.oid == ID_EC_PUBLIC_KEY;
        if !elliptic || info.algorithm.parameters_oid().ok() != Some(PRIME256V1) {
            return Err(not_p256.to_owned());
        }
        return SecretKey::from_pkcs8_der(&der).map_err(|_| damaged());
    }
    Err("Unknown PEM block: expected PRIVATE KEY or EC PRIVATE KEY.".into())
}

fn from_raw(text: &str) -> Result<SecretKey, String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = URL_SAFE_NO_PAD
        .decode(compact.trim_end_matches('='))
        .or_else(|_| STANDARD.decode(&compact))
        .map_err(|_| "The key is neither PEM nor base64url.".to_owned())?;
    match bytes.len() {
        32 => SecretKey::from_slice(&bytes).map_err(|_| "These 32 bytes are not a valid P-256 private key.".into()),
        65 if bytes[0] == 4 => {
            Err("This is a public key only (65 bytes): signing needs the private key (32 bytes).".into())
        }
        n => Err(format!("A raw private key is 32 bytes (43 base64url characters); this is {n} bytes.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::EncodePublicKey;

    const P384: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBOBeq/mcVcd5CE6fLa
NSq4VNnszo18N+azqGMrJ5a4e6duf9S+8wmFcATPbuyfRGqhZANiAATWGOzFiGyk
pYH6RnnMHCWtrHkMGqntQVAjE4pfO+CDTqf7G5wCVuUSt44ylUCZcL5LAZ/b0f4L
9OqY1rq/azwnoeViL5F0jTjjNriq15WxG1BCBDt8epAGuR7osFIG4rg=
-----END PRIVATE KEY-----";
    const ED25519: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIED7kvM2FcX6XWyLgk8NPJ/oJfhyeBhhviWmGoydpA7E
-----END PRIVATE KEY-----";

    #[test]
    fn every_usual_form_of_one_key_reads_as_the_same_pair() {
        let pair = KeyPair::generate();
        let secret = from_raw(&pair.private_key).unwrap();
        let sec1 = secret.to_sec1_pem(LineEnding::LF).unwrap().to_string();
        let padded = format!("{}=", STANDARD.encode(secret.to_bytes()).trim_end_matches('='));
        for form in
            [pair.private_key.clone(), pair.to_pem().unwrap(), sec1, format!("  {}\n", pair.private_key), padded]
        {
            assert_eq!(KeyPair::parse(&form).as_ref(), Ok(&pair), "{form}");
        }
        assert_eq!(URL_SAFE_NO_PAD.decode(&pair.public_key).unwrap().len(), 65);
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        let pair = KeyPair::generate();
        let public_pem = from_raw(&pair.private_key).unwrap().public_key().to_public_key_pem(LineEnding::LF).unwrap();
        let pem = pair.to_pem().unwrap();
        let truncated: String = pem.lines().take(2).chain(["-----END PRIVATE KEY-----"]).collect::<Vec<_>>().join("\n");
        for (input, says) in [
            ("", "Paste"),
            (P384, "P-256"),
            (ED25519, "P-256"),
            (public_pem.as_str(), "public key only"),
            (pair.public_key.as_str(), "public key only"),
            // 28 characters: whole base64 groups, so it always decodes (to 21 bytes).
            (&pair.private_key[..28], "32 bytes"),
            (truncated.as_str(), "damaged"),
            ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", "encrypted"),
            ("not a key at all!", "neither PEM nor base64url"),
            (&URL_SAFE_NO_PAD.encode([0xFFu8; 32]), "not a valid"),
        ] {
            let error = KeyPair::parse(input).unwrap_err();
            assert!(error.contains(says), "{input:?}: {error}");
        }
    }
}
