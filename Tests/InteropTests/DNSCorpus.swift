/// Zone files with tricky syntax, shared by the DNS interop tests. Every record type the library
/// knows appears at least once; names avoid what BIND's check-names would reject unless the test
/// turns that check off.
enum DNSCorpus {
    /// One record of every type, all with distinct owners, for the message round trips.
    static let everyType = """
        $ORIGIN example.com.
        $TTL 3600
        @ IN SOA ns1 hostmaster ( 2024010101 ; serial
                7200 3600 1209600 300 )
          IN NS ns1
          IN NS ns2.example.net.
        ns1 A 192.0.2.1
        ns1 AAAA 2001:db8::1
        ns2 300 IN AAAA ::ffff:192.0.2.7
        www CNAME ns1
        old DNAME new.example.net.
        1.2 PTR host.example.net.
        @ MX 10 mail
        txt TXT "hello world" "quote \\" and back\\\\slash" \\0070x plain "" "\\255\\000"
        spf SPF "v=spf1 -all"
        _sip._udp SRV 0 5 5060 sip
        nap NAPTR 100 10 "S" "SIP+D2U" "!^.*$!sip:info@example.com!" _sip._udp
        caa CAA 0 issue "letsencrypt.org; validationmethods=dns-01"
        caa2 CAA 128 tbs "\\"quoted\\""
        _443._tcp TLSA 3 1 1 0123456789abcdef0123456789abcdef 0123456789abcdef0123456789abcdef
        ssh SSHFP 4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        sec DS 60485 8 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A
        sec CDS 60485 13 4 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50AD4B7D520E7BB5F0F67674A0CCEB1E3E0
        key DNSKEY 257 3 13 ( mdsswUyr3DPW132mOi8V9xESWE8jTo0d
            xCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ== )
        key CDNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=
        sig RRSIG A 13 3 3600 20300101000000 20240101000000 60485 example.com. ( oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTr
            PYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNr
            LfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o= )
        nsec NSEC zzz.example.com. A MX RRSIG NSEC TYPE1234
        nsecempty NSEC \\000.example.com. NS
        3b7g8c5lkiv0uvfn9q9l0cdq6o6bsv5b NSEC3 1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG
        nsec3salt NSEC3 1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S NS SOA
        @ NSEC3PARAM 1 0 0 -
        p3 NSEC3PARAM 1 0 10 DEADBEEF
        @ ZONEMD 2024010101 1 1 A8B2E5F9D1C3B4A5A8B2E5F9D1C3B4A5A8B2E5F9D1C3B4A5A8B2E5F9D1C3B4A5A8B2E5F9D1C3B4A5A8B2E5F9D1C3B4A5
        svc SVCB 1 svc.example.net. alpn=h2,h3 port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1 key65000="x"
        svc2 SVCB 0 alias.example.net.
        https HTTPS 1 . alpn="h3" no-default-alpn mandatory=alpn,port port=443 ech="AAT+DQAA"
        loc LOC 52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m
        loc2 LOC 31 S 106 28 29 W 10m
        hi HINFO "Generic PC" "Linux"
        uri URI 10 1 "https://example.com/path?q=1"
        u TYPE65534 \\# 4 0a000001
        u0 TYPE65000 \\# 0
        generic A \\# 4 C0000263
        """

    /// Syntax BIND accepts that trips up naive parsers, with what it should mean.
    static let tricky = """
        ; comments everywhere
        $TTL 1h30m ; units
        @ SOA ns1.example.com. hostmaster.example.com. (
              1        ; serial
              2h       ; refresh
              30M      ; retry
              1W       ; expire
              1d )     ; minimum
          NS ns1
        ns1  IN 300 A 192.0.2.53
             IN     AAAA 2001:DB8:0:0:0:0:0:53
        MiXeD.CaSe A 192.0.2.2
        x 300 A 10.0.0.9
        x A 10.0.0.1
        x 7200 A 10.0.0.5
        escaped\\.dot A 192.0.2.3
        \\065\\066c A 192.0.2.4
        *.wild A 192.0.2.5
        quoted TXT "semi;colon" "paren(" "tab\\009" "utf8 \\195\\169"
        multi TXT ( "one"
                    "two" )
        $ORIGIN sub.example.com.
        relative A 192.0.2.6
        @ TXT "at the sub origin"
        $ORIGIN example.com.
        $TTL 60
        after-ttl A 192.0.2.7
        $GENERATE 1-4 host-$ A 10.1.0.$
        $GENERATE 0-10/5 h${100,4,x} CNAME ${0,3,d}.target
        $GENERATE 250-251 $.rev 120 PTR host${10,4,X}.example.
        $GENERATE 255-256 ${0,5,n}.ip6 PTR h$
        $GENERATE 1-2 txt$ TXT "v=$ \\$ x"
        """

    /// The included file for the `$INCLUDE` case, and the zone that includes it.
    static let included = """
        inc1 A 192.0.2.100
        $ORIGIN deeper.example.com.
        inc2 A 192.0.2.101
        """

    static let including = """
        $TTL 300
        @ SOA ns1 hostmaster 1 2 3 4 5
        @ NS ns1
        ns1 A 192.0.2.1
        $INCLUDE part.db
        $INCLUDE part.db other.example.com.
        after A 192.0.2.102
        """
}
