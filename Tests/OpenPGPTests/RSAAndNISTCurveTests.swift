import OpenPGP
import Testing

/// RSA and the NIST curves: keys, signatures and messages that GnuPG 2.2 made (an RSA-2048 key
/// with an RSA-2048 encryption subkey, a P-256 ECDSA key with a P-256 ECDH subkey; each signed
/// and encrypted "Signed by GnuPG\n"), and round trips through the `rfc4880-rsa` profile.
@Suite struct RSAAndNISTCurveTests {
    static let now: UInt32 = 1_900_000_000
    static let text = Array("Signed by GnuPG\n".utf8)

    static let rsaKey = base64(
        "lQOYBGsL3hwBCAC/AMUTwKjzgzbZSc9eoEsFb2Qmc55jArxXNoes8rByXmQs1beeLWRhSdvjkdpnUp4mEG35EXVR"
            + "FHt5QuhFlxOLU4VI02Udr4I6f0RQP7hO67vnhX/5WVl+G1OX6pQEQQd1pG6uJ7/bWhyzQVvHM7YeqMOyDj/gSE2k"
            + "M2v3Bd7LYCO90K8k6Q9vtX5X/TmHqLbPuxCJhP80xbvxh0bAwW6S51vBAQIIk7c1dA5v3s4iFRGWbya1PDmmSRqi"
            + "2nYQKXMxJMc1Rcq/4W5veNd3TFwAu+FfB7EJEdo+3lsMFYHdNPD1M18LXuSpQyWDKQudyeo6SA1Xb1Qp6QYKDbW9"
            + "QbwTABEBAAEAB/wL8P8L7m5MVdZxXKKmW9x/iSijGXS8OUjlJaJIjHO+SBXN58lZuPoe9asrCHdgdlMvi19qGaP9"
            + "XwvJLQcF3XLPXHgSHC/6MdAxMBET+KfhPJkRhHstGl+fTr4PMA9I+iJ+lw/Zu4p3KvnDC0GzATyloLomFlX6rl/h"
            + "oDAOeu4kRibBfcuwUL8EnmB9VywV6+LIXYRarxXxRFcBoKhWtZgZyUdYSF4xwEO1S0iz6PpNJGDNgakv30eZ1Xd3"
            + "p9nnWak+aih0IuTc+wen4JTECkufPf+fgS5tIZt59/6ngGu06f0XwCillqwhIbfH6Mn+ZD3C6+ebXOBO+Irn4aAj"
            + "0dGBBADPnikknf5Vyobfr8PvZLjmeFLkNr1xSmyHJu11LOZkHy6w6JknQG0ya2OYTWk9eiOy29kD9KYpJMUR4f4T"
            + "5++CYIk2nxkS/DqTpYOj65/9VrD7FRmJ5FwvZ6YbgxugjgVZgckwXxfSKU0sV6DMeRVShaHhsgCTDkSbP9RUfm5L"
            + "kQQA64NrvKD27fWm7ZDV+5f72Wf3VOGEns33De5cN0AtwUO77c8tOAkkbZ25nWwUirEwZQaTDT8utuHVl82mOGMm"
            + "qOq4SvdEZcx9KWo5Y5MQG8GvABplPlMb7e2+1QSTtn1l8s/5HGctDoNtdfHD8Q2oFkzUKgae7QUYrb3ck04y02MD"
            + "/i/gVhpZIE2UftMCnpDJESEt0PpvdNxUW7uS2SQLuYGtvEev3QIXaC8dPbimuLtyrC+NnmDHo70EcpXEvvwoaNLN"
            + "hyI7sCmWpd42RGNcdo4SQuzlLKUEWqAvNx14RWDGdYpUkrXqQ742fwzhhoXUD4+dia8LDO8hT4jiEBrwNSAfPU20"
            + "HFJTQSBWZWN0b3IgPHJzYUBleGFtcGxlLm9yZz6JAU4EEwEKADgWIQSwpD46s6R9FsVLV6L5bL6uk3QEEwUCawve"
            + "HAIbAwULCQgHAgYVCgkICwIEFgIDAQIeAQIXgAAKCRD5bL6uk3QEE2itCACH2EwHrp55vTw1d7fOw4CM+aYPrcpA"
            + "UQ+BUWxw/cqh7CPcv7m/MDWiVGT8Hanm68okixC3E5iiU30kOYtkIQMzlpZRBlOGqdarExYsDydAsXAp68zIqfy5"
            + "T+ZR+fgMOtlTJEUROYJXHPMKPn/nszP5DQqNLSNuHoNhqG1VSQQeLoJbVKFX2djS8IZ/pLhSGKCZoD99J92zCM4w"
            + "RfxED6SWd0SwQIyH/Hw0dGbTo2yvhkYvXSjrlsW0M4t2V7RctqMbCCKCJMYbLVAs0V2+UxRhMu5cM5epDGNaTV6C"
            + "gNzb2g2ljD3XOlbsUHnMDkF8N2xytFmYUQSYdV8G7p3OeWdJnQOYBGsL3h0BCAC8Gt1FiDAJOCv72aBKOIE18ZlA"
            + "h+zDW5G+/WTOWul1RIzVlHwUEoNYOK1KriLomkeLTvDMYr2VG8EapNiYNaEZKbNY84Jv1YNJCJBHv9dlnPqU3agv"
            + "+0PHFPYBAaDgAR/hc9u48plvDC37sx+sboaB6JhRbND904CFMW4NR2r+uumj5IJyXKt8GPCGlIwFSZdpStl31+jy"
            + "3zBhFCTCFQCnYHT88AGd+kvMQeDieXJjTo+uXtn4DM+kC4uZ5a9Tkl7jaMoFo5DL5ZXg6gqO/frhhG966Gyeba9X"
            + "h9Gkg8cy4irEkqJRT8z12VLKHjYA7fM5IieVhsIYQaWmF4wJZ2hZABEBAAEAB/0Tp6N0BN5PEk5fPR7HbpbKvA1J"
            + "PcKuqYpluFywhrWS7iggl4itAL+2Z8qsrVwirZ845lVZJ96bHlirt+qVYfIsusudiWk5VggnKRTJWHlxackRpcUR"
            + "iWnMOyuW0JSen2N1R2m/riK75JwH6zAtsGlP2O3UgUAnq5JH6JGxI8OhbNjDqWG4D/q6uk9RNlUtJRXIUo14BqpP"
            + "Pybuwl3C+nZXzsdw4TC3Vey9WJX13amJrlOcKGqbXoGbpipBdLJ5F9SNzYAtzZnMFHg3biTpqLBhkTGrfP5xdGtI"
            + "lPTjqt3P1x4UeTZXHUcZTwEMScFI77k21Vb8eSIg+yxOfauaHQahBADUgL9jv6jJGEMnXsJ401N7AZ5QK7iH0Oa7"
            + "qN24XXCA1+QYqqMjIPZtxKHkg4Qwx5/nKorXto9bnr+ZB2oDafkAKUK88DPkDdMrMFCdHAzm3ChVL1sBaWUswi6U"
            + "NmRofg7ZVGOdVHTPhsgbd5Jn+hDAp2jA4edzCJW9kLYY1IuJoQQA4pumrZrImk+SUy0KFbgrQ6D3Wpjon3WlecsH"
            + "Y5mHFupRctzZa2MbhOWDlzZGbyvALi+qsJNPS1nAKKmBA/H/xxHi8qDClXDedMS+vhROKs0u3ACLgDDWXpLHYOmD"
            + "LlLrdjOr8J/qLILMItbU4zPI/ZgcNEEjnHXQ+KSi8DsaE7kD/jVUavxGDBBf7W4cZY260zeKgGtpc/c4p0Li8wL6"
            + "rL/NZi8i8B3VzlfMgxc1V3tbWHYT5Z7/6tGP99Mhdqs8l1tgsAUSM7XjrdrWfJwyhIE2MQTX/UQKzgtf79lsorLJ"
            + "Qcd8E3G1YY7uEoxYGF79NFzFOt2a+2HQsamOz3x7Znu+RaSJATYEGAEKACAWIQSwpD46s6R9FsVLV6L5bL6uk3QE"
            + "EwUCawveHQIbDAAKCRD5bL6uk3QEE/JEB/9ovrX6Lyu//7mS6ajJj8htQyZwjrP8qRu6+Yunt/YbPM++nfszw/5W"
            + "6oD+YKvGQy0TLc7mzONEPOsOAkviMx8VV8ZAK9PJcgpMgwQB1bXaCD46T1rdmd74zo3qF6cxJKDTofqbaqLyKx/N"
            + "H7F0IEXmbqgP1Y+AEDYI2dl7LD4oUAMaDEE/G0Pn5QBjrZisWfQiAcROb1LHBH1OiE4gfAKJC2U576FFnElO4tTp"
            + "JLQVCfbvZxc81QCg0/pTXAH28k6vEYuWPaNscxTFEJDp0y0fA+K9ZfM4C6JfFdoFRSMBq6PXKTBEVTOVdyof2tr4"
            + "eTtsaaTIBeEOhr7pat8+YRy3")
    static let rsaSignature = base64(
        "iQFEBAABCgAuFiEEsKQ+OrOkfRbFS1ei+Wy+rpN0BBMFAmsL3h0QHHJzYUBleGFtcGxlLm9yZwAKCRD5bL6uk3QE"
            + "E/2IB/9ofqtK8BVm/khohF40G5fQnQc5TP9ibh8tJWrQ1VqQU0vhPBr1vq8bZwPWxOezoO1oN7G6UwUubaW+O2M7"
            + "cSjAdm2WgxmQ+WueHastbGdWfeGjnqnE17fugqSciLtJdD9OfIPFuThlI/mbFAwNU1Hg5uiD18Zd9O2YEeq5A/nd"
            + "f0/kzT6hjMBm6UNvmpv2xXRVC3qfCDRMOTK8pT3ePbNtryVhaiutxhEjvOI2h+7NNkHmlJFWGazzaob1wN4oSLeg"
            + "MxpEQH802AZb2QBXqwcbIZSGqe8vULUALa46kPDZOPmaUEfA3DActUVUMzbONeSkkHbYMOLlDMG+dbFMhzTK")
    static let rsaMessage = base64(
        "hQEMA9LXClMgezSuAQf9GQR5qGkq0QlP2sKZUhzhFsd8cvvlNZtX0/kpT2rxShcTGxBA13aSic4IVExi4xKozJvl"
            + "LtKc6nUDBbbrTC0Hegt02C2LqsoId7z+77LEoTQl6vSf3PlBCWLyU4DHABlVWHp/crNxHjkX5ohcVvwk42je8aKF"
            + "V6dk3f1CFtESydr5Hs8R/fd4EsE8f8Rrh34IHrozUxeTtCLfx5m9k9JVPz7/A2hv7bP7VMd/iYYWHCWA2M+SJPwK"
            + "vRFhM5Xm6UhkJOztsKL0PFvvUWHFbywJBuI7mtxuv7XG0Ypb2bmSjk4RlhnCKRte12Sh1kG+TtVXdKCqPsA5CfzF"
            + "x0OAkJjp2dJQAY2s5Z2WhzCNzVMhjk+JC13TbtFmXcXonV7WUadQFS14PawICy5VpcBv8OUEACZVkvDHP7hjryPs"
            + "633dZnmmExbX8T7tpwn1sbt7HIlZ6Y8=")
    static let p256Key = base64(
        "lHcEawveHRMIKoZIzj0DAQcCAwTkgAyJCSY1OiahxJmuyevSmi2w+47hm1rc7pThFd2yqmi+PE4w2EoCiGMEx24B"
            + "Y/2p3nct7HbsS1Sm30veIU4XAAEA0MiIRlxyiKiYvSrirG1YpN2xbW1kZ4sm4ETU9FDWAWMRNbQeUDI1NiBWZWN0"
            + "b3IgPHAyNTZAZXhhbXBsZS5vcmc+iJAEExMIADgWIQR2yGI8Pmu2+KztezUJSkoHASKvCwUCawveHQIbAwULCQgH"
            + "AgYVCgkICwIEFgIDAQIeAQIXgAAKCRAJSkoHASKvCwz4AQCi4SmNZi7JZSXDxSb+MFLDRp5JH+kY5FUQpSsb7eoL"
            + "gwD+J9aRUmFqveeEmVc6uCpekKDTK4u4mS3NOPYhDeEXWaOcewRrC94dEggqhkjOPQMBBwIDBA4aGyv+S8B9jxe+"
            + "LXktcuQ5rGvgt7b5VGlkfnKaM5PYQ/rUiNupRggQuqPV+p/DZtZq58v0Jt0lXvJwPW0YH1ADAQgHAAD/W0oKZQZm"
            + "GyEmFOYyb/Ydy/LzkIvucicTKuKo8phKDP8Ph4h4BBgTCAAgFiEEdshiPD5rtvis7Xs1CUpKBwEirwsFAmsL3h0C"
            + "GwwACgkQCUpKBwEirwsFZgEAnDTc5plV3gTQpAjkT/kPHQC8WVWSI6AudKJkX6i/CfAA+gPrK/iKnN9iYsrSHSxJ"
            + "N4QKhhfbI1+WPYrTl3JMlddL")
    static let p256Signature = base64(
        "iIcEABMIAC8WIQR2yGI8Pmu2+KztezUJSkoHASKvCwUCawveHREccDI1NkBleGFtcGxlLm9yZwAKCRAJSkoHASKv"
            + "C+ZCAQCkGm4h54bwEYDvnsG53zJ7BnpRPuWXysQFFWzwDiyNogEA0qbdZDGmLeII0QDKl3OfN7s+H2zL23a7yLP6"
            + "4hSO5ic=")
    static let p256Message = base64(
        "hH4DvvP29rOZDKISAgMEgrD+tON9H/zntvfOvk+YgyzG5oOnTcTCO5ELRaHdJVubv32Y42W5GjrTalbrkhtx7Ks0"
            + "qRycs1h6G7R492Aa7TDqtXp3ivpeeE7LtR6MFjfp4rBQF5oJv8MhZwbShom0ldbhiwTMwJ3wOTibV311FLbSUAGK"
            + "7yY9rHIZdUiF2plLMUjxD1SZG6IJ7pRF05zwmgMrRTnwTKBaXSWWNTME9JAZ5Fb9lCRsvSK/INtpUDNW9Wzd6Dny"
            + "0cv2GdmjyAyTzqrm")

    @Test func gnupgKeysParseWithGnuPGsFingerprints() throws {
        let rsa = try #require(try Certificate.parseAll(Self.rsaKey).first)
        #expect(rsa.fingerprintHex == "B0A43E3AB3A47D16C54B57A2F96CBEAE93740413")
        #expect(
            rsa.encryptionKeys(at: Self.now).map(\.key.fingerprintHex) == ["601F078E85B5A0B1C3C8163BD2D70A53207B34AE"])
        let p256 = try #require(try Certificate.parseAll(Self.p256Key).first)
        #expect(p256.fingerprintHex == "76C8623C3E6BB6F8ACED7B35094A4A070122AF0B")
        #expect(
            p256.encryptionKeys(at: Self.now).map(\.key.fingerprintHex) == ["EA812E133777C09ACFCE1461BEF3F6F6B3990CA2"])
        for key in [rsa, p256] {
            #expect(key.isSecret)
            // The secret keys re-encode byte for byte, checksums included.
            let reencoded = PacketFraming.encode(key.packets())
            #expect(try Certificate.parseAll(reencoded) == [key])
            #expect(key.signingKeys(at: Self.now).count == 1)
        }
    }

    @Test func gnupgSignaturesVerifyAndTamperedOnesDoNot() throws {
        for (key, signature) in [(Self.rsaKey, Self.rsaSignature), (Self.p256Key, Self.p256Signature)] {
            let certificate = try #require(try Certificate.parseAll(key).first).publicCertificate
            let signatures = try DetachedSignatures.parseSignatures(signature)
            let verified = DetachedSignatures.verify(
                Self.text, signatures: signatures, certificates: [certificate], now: Self.now)
            #expect(verified.map(\.primaryKeyFingerprint) == [certificate.primary.fingerprint])
            #expect(
                DetachedSignatures.verify(
                    Array("Signed by someone else\n".utf8), signatures: signatures, certificates: [certificate],
                    now: Self.now
                ).isEmpty)
            var flipped = signature
            flipped[flipped.count - 3] ^= 0x01
            let tampered = try DetachedSignatures.parseSignatures(flipped)
            #expect(
                DetachedSignatures.verify(Self.text, signatures: tampered, certificates: [certificate], now: Self.now)
                    .isEmpty)
        }
    }

    @Test func gnupgMessagesDecryptAndTamperedOnesDoNot() throws {
        for (key, message) in [(Self.rsaKey, Self.rsaMessage), (Self.p256Key, Self.p256Message)] {
            let secretKey = try #require(try Certificate.parseAll(key).first)
            #expect(try Messages.decrypt(message, keys: [secretKey], now: Self.now).plaintext == Self.text)
            // A flipped bit in the encrypted session key (the first packet) leaves nothing to decrypt with.
            var flipped = message
            flipped[30] ^= 0x01
            #expect(throws: OpenPGPError.self) { try Messages.decrypt(flipped, keys: [secretKey], now: Self.now) }
        }
    }

    @Test func ourSignaturesAndMessagesWorkWithGnuPGsKeys() throws {
        for key in [Self.rsaKey, Self.p256Key] {
            let secretKey = try #require(try Certificate.parseAll(key).first)
            let certificate = secretKey.publicCertificate
            let signatures = try DetachedSignatures.sign(Self.text, with: [secretKey], mode: .binary, at: Self.now)
            let verified = DetachedSignatures.verify(
                Self.text, signatures: signatures, certificates: [certificate], now: Self.now)
            #expect(verified.count == 1)
            let message = try Messages.encrypt(
                Self.text, recipients: [certificate], signers: [secretKey], at: Self.now)
            let decrypted = try Messages.decrypt(
                message, keys: [secretKey], verifyWith: [certificate], now: Self.now)
            #expect(decrypted.plaintext == Self.text)
            #expect(decrypted.verifications.count == 1)
        }
    }

    @Test func theRSAProfileMakesAV4RSAKeyThatSignsAndDecrypts() throws {
        let key = try Certificate.generate(profile: .rfc4880RSA, userIDs: ["R <r@example.org>"], created: Self.now)
        #expect(key.primary.version == 4)
        guard case .rsa(let modulus, let exponent) = key.primary.material else {
            Issue.record("primary key is \(key.primary.material)")
            return
        }
        #expect(modulus.count == 384)
        #expect(exponent == [0x01, 0x00, 0x01])
        let reparsed = try Certificate.parseAll(PacketFraming.encode(key.packets()))
        #expect(reparsed == [key])
        let certificate = key.publicCertificate
        let data = Array("RSA round trip".utf8)
        let signatures = try DetachedSignatures.sign(data, with: [key], mode: .text, at: Self.now)
        #expect(
            DetachedSignatures.verify(data, signatures: signatures, certificates: [certificate], now: Self.now).count
                == 1)
        for profile in EncryptionProfile.allCases {
            let message = try Messages.encrypt(data, recipients: [certificate], profile: profile, at: Self.now)
            #expect(try Messages.decrypt(message, keys: [key], now: Self.now).plaintext == data)
        }
        let other = try Certificate.generate(profile: .rfc4880RSA, userIDs: [], created: Self.now)
        let message = try Messages.encrypt(data, recipients: [certificate], at: Self.now)
        #expect(throws: OpenPGPError.self) { try Messages.decrypt(message, keys: [other], now: Self.now) }
    }

    @Test func anEllipticCurveSecretLongerThanItsCurveIsMalformed() throws {
        var packets = try PacketFraming.packets(Self.p256Key)
        // The P-256 primary key's public part: version, time, algorithm, OID, then the point's MPI.
        let publicPart = Array(packets[0].body.prefix(1 + 4 + 1 + 1 + 8 + 2 + 65))
        let scalar: [UInt8] = [0x01, 0x01, 0x01] + [UInt8](repeating: 0xAB, count: 32)  // 257 bits
        let checksum = scalar.reduce(UInt16(0)) { $0 &+ UInt16($1) }
        packets[0] = Packet(
            tagValue: packets[0].tagValue,
            body: publicPart + [0] + scalar + [UInt8(checksum >> 8), UInt8(truncatingIfNeeded: checksum)])
        #expect {
            try Certificate.parseAll(PacketFraming.encode(packets))
        } throws: { error in
            "\(error)".contains("secret key longer than 32 bytes")
        }
    }

    /// Found by fuzz-openpgp-packets: an RSA secret key whose exponent is the MPI 0 written with
    /// one bit. Such fields are kept as they came, so a second reading agrees with the first.
    @Test func aKeyWithANonCanonicalMPIEncodesStably() throws {
        let input = base64(
            "lwSRAIBbAQAAAAEAAAAAAAAAr27/L8ePfwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACRAIAAAAY=")
        let keys = try Certificate.parseAll(input)
        let first = PacketFraming.encode(keys.flatMap { $0.packets() })
        let again = try Certificate.parseAll(first)
        #expect(PacketFraming.encode(again.flatMap { $0.packets() }) == first)
        #expect(keys.first?.primary.encoded == Array(input[1..<12]))  // after the one-byte old-format header
    }
}
