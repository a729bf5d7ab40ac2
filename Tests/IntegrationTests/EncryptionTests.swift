import Foundation
import RapportAdmin
import RapportCore
import RapportPostgres
import RapportServices
@testable import RapportStore
import RapportSupport
import RapportTesting
import Testing

/// Envelope encryption against the real servers: sealed ledger and dead-letter bodies, ciphertext bound to
/// its row, the erase (and a restored backup erased again), a wrong KEK at start, rotation under load and
/// the 国密 suite beside the default one.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run encryption tests"))
struct EncryptionIntegrationTests {
    static let ledgerRows = "select source, message_id, lead_id, sealed, sealed_key from inbound_ledger order by message_id"

    /// Every text and jsonb column of `tables` that holds `value` (as `table.column`).
    static func plaintext(_ value: String, in tables: [String], db: PGConnection) throws -> [String] {
        var found: [String] = []
        for c in try db.query(
            """
            select table_name, column_name from information_schema.columns
            where table_schema = 'public' and table_name = any($1::text[]) and data_type in ('text', 'jsonb', 'ARRAY', 'bytea')
            """, [tables]) {
            let t: String = try c.decode("table_name"), col: String = try c.decode("column_name")
            let hit = try db.query("select 1 from \(t) where position($1 in \(col)::text) > 0 or position(convert_to($1, 'UTF8') in \(col)::text::bytea) > 0 limit 1",
                                   [value])
            if !hit.isEmpty { found.append("\(t).\(col)") }
        }
        return found
    }

    /// Tables that must never hold a name or phone in plaintext: the sealed ones and the blind indexes.
    static let sealedTables = ["inbound_ledger", "dead_letters", "data_keys", "lead_identities", "lead_keys", "customer_identities", "index_keys"]

    @Test("personal fields are sealed per lead and read back for matching; a ciphertext copied to another row fails", .timeLimit(.minutes(2)))
    func sealedLedger() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        // Four people, two of them twice: the second touch is matched against the sealed first one.
        try env.publish((0..<6).map { DemoData.webForm($0 % 4, run: "enc", messageID: "e-\($0)", phoneStyle: $0 / 4) })
        try await env.waitUntil("ingested") { try env.count("select count(*)::int8 as n from inbound_ledger") == 6 }
        #expect(try env.count("select count(distinct lead_id)::int8 as n from inbound_ledger") == 4)
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where sealed is null or name is not null or phone is not null or email is not null") == 0)
        // Four data keys for the people, one for the blind index.
        #expect(try env.count("select count(*)::int8 as n from data_keys") == 5)
        // Identity and blocking keys are blind: a field name and 128 bits of HMAC.
        #expect(try env.count("select count(*)::int8 as n from lead_identities") >= 4)
        #expect(try env.count("select count(*)::int8 as n from lead_identities where key !~ '^(phone|email):[0-9a-f]{32}$'") == 0)
        #expect(try env.count("select count(*)::int8 as n from lead_keys where key !~ '^[a-z]+:[0-9a-f]{32}$'") == 0)

        let db = try env.db()
        defer { db.close() }
        let rows = try db.query(Self.ledgerRows)
        let opened = try LedgerSeal.open(rows, keyring: env.keyring, db: db)
        #expect(opened.count == 6)
        for i in 0..<4 {
            let p = DemoData.person(i, run: "enc")
            #expect(opened.values.contains { $0["name"]?.stringValue == p.name })
            // Neither the ledger nor the dead letters hold the name or the phone in plaintext.
            #expect(try Self.plaintext(p.name, in: Self.sealedTables, db: db) == [])
            #expect(try Self.plaintext(p.phone, in: Self.sealedTables, db: db) == [])
        }

        // Row e-1's ciphertext put in row e-5 (the same lead, so the same key): it no longer opens.
        try db.query("update inbound_ledger set sealed = (select sealed from inbound_ledger where message_id = 'e-1') where message_id = 'e-5'")
        #expect(throws: KeyringError.self) { try LedgerSeal.open(try db.query(Self.ledgerRows), keyring: env.keyring, db: db) }
    }

    @Test("an erase destroys the keys, clears the person, stops lookups, publishes customer.erased; a restored older backup is erased again",
          .timeLimit(.minutes(3)))
    func erase() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try env.publish([DemoData.webForm(0, run: "er", messageID: "er-1"), DemoData.webForm(0, run: "er", messageID: "er-2"),
                         DemoData.webForm(1, run: "er", messageID: "er-3")])
        try await env.waitUntil("ingested") { try env.count("select count(*)::int8 as n from inbound_ledger") == 3 }
        let db = try env.db()
        defer { db.close() }
        let lead: UUID = try db.query("select lead_id from inbound_ledger where message_id = 'er-1'").first!.decode("lead_id")
        let person = DemoData.person(0, run: "er")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-erase-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try Backup.dump(env.settings.postgresURL, into: dir)
        // Search finds the person before the erase (the indexer's work, done here).
        _ = try LeadSearchIndex(db: db).refresh()
        let search = { try SearchEngine(db: db).search(SearchQuery(entity: .leads, text: person.name)).hits.map(\.id) }
        #expect(try search().contains(lead))

        let r = try Erasure(db: db).erase(.lead, lead, actor: "test-admin")
        try EraseLog.append(eraseID: r.eraseID, kind: .lead, subject: lead, path: env.settings.eraseLogFile!)
        #expect(r.leads == [lead] && r.keysDestroyed == 1 && r.applied)
        #expect(try env.count("select count(*)::int8 as n from data_keys where id = $1", [lead]) == 0)
        // The sealed rows stay, and nothing opens them.
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where lead_id = $1 and sealed is not null", [lead]) == 2)
        let opened = try LedgerSeal.open(try db.query(Self.ledgerRows), keyring: env.keyring, db: db)
        #expect(opened.count == 1)
        #expect(try env.count("select count(*)::int8 as n from leads where id = $1 and name is null and phone is null and status = 'erased'", [lead]) == 1)
        #expect(try env.count("select count(*)::int8 as n from lead_identities where lead_id = $1", [lead]) == 0)
        #expect(try env.count("select count(*)::int8 as n from lead_keys where lead_id = $1", [lead]) == 0)
        _ = try LeadSearchIndex(db: db).refresh()
        #expect(try !search().contains(lead))
        #expect(try Self.plaintext(person.name, in: ["leads", "inbound_ledger", "lead_identities", "lead_keys", "outbox", "audit_log", "erasures"], db: db) == [])
        #expect(try Self.plaintext(person.phone, in: ["leads", "inbound_ledger", "lead_identities", "lead_keys", "outbox", "audit_log", "erasures"], db: db) == [])
        #expect(try env.count("select count(*)::int8 as n from erasures where erase_id = $1 and actor = 'test-admin'", [r.eraseID]) == 1)
        #expect(try env.count("select count(*)::int8 as n from audit_log where action = 'lead.erased' and $1 = any(targets)", ["lead:" + lead.uuidString.lowercased()]) == 1)
        // The event goes out (the relay marks it published after the broker confirmed it).
        try await env.waitUntil("customer.erased published") {
            try env.count("select count(*)::int8 as n from outbox where routing_key = 'customer.erased' and published_at is not null") == 1
        }
        // The same person again is a stranger: the erased lead is not found by phone, email or fuzzily.
        try env.publish([DemoData.webForm(0, run: "er", messageID: "er-4")])
        try await env.waitUntil("ingested again") { try env.count("select count(*)::int8 as n from inbound_ledger") == 4 }
        let again: UUID = try db.query("select lead_id from inbound_ledger where message_id = 'er-4'").first!.decode("lead_id")
        #expect(again != lead)
        #expect(try db.query("select outcome from inbound_ledger where message_id = 'er-4'").first?["outcome"] == "created")
        // Erasing twice with the same id changes nothing.
        #expect(try Erasure(db: db).erase(.lead, lead, actor: "x", eraseID: r.eraseID).applied == false)

        // A backup from before the erase, restored: the erase log is applied again and the key is gone.
        try BackupIntegrationTests.withDatabase { target in
            _ = try Backup.restore(before, into: target)
            let restored = try PGConnection(target)
            defer { restored.close() }
            #expect(try restored.query("select count(*)::int8 as n from data_keys where id = $1", [lead]).first!.decode("n", as: Int.self) == 1)
            #expect(try EraseLog.reapply(path: env.settings.eraseLogFile!, db: restored) == 1)
            #expect(try restored.query("select count(*)::int8 as n from data_keys where id = $1", [lead]).first!.decode("n", as: Int.self) == 0)
            #expect(try LedgerSeal.open(try restored.query(Self.ledgerRows), keyring: env.keyring, db: restored).count == 1)
            #expect(try Self.plaintext(person.name, in: ["leads", "inbound_ledger"], db: restored) == [])
            #expect(try EraseLog.reapply(path: env.settings.eraseLogFile!, db: restored) == 0)
        }
    }

    @Test("identity.erase is for admins: a manager is refused, an admin erases a customer with its leads", .timeLimit(.minutes(2)))
    func eraseCommand() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers(commands: true)
        defer { workers.stop() }
        try env.publish([DemoData.webForm(2, run: "ec", messageID: "ec-1")])
        try await env.waitUntil("ingested") { try env.count("select count(*)::int8 as n from inbound_ledger") == 1 }
        let db = try env.db()
        defer { db.close() }
        let lead: UUID = try db.query("select lead_id from inbound_ledger").first!.decode("lead_id")
        let customer = UUID()
        try db.query("insert into customers (id, name, phone) values ($1, $2, $3)", [customer, "测试客户", "13900000001"])
        try db.query("update leads set customer_id = $1 where id = $2", [customer, lead])

        let caller = try RecordCommandsTests.Caller(env)
        let bad = try caller.call("identity.erase", .object(["customer_id": .string(customer.uuidString), "lead_id": .string(lead.uuidString)]))
        #expect(RecordCommandsTests.error(bad).0 == "invalid_field")
        let done = try caller.ok("identity.erase", .object(["customer_id": .string(customer.uuidString.lowercased())]))
        #expect(done["leads"] == .number(1) && done["keys_destroyed"] == .number(1))
        #expect(try env.count("select count(*)::int8 as n from customers where id = $1 and name is null and phone is null and deleted_at is not null", [customer]) == 1)
        #expect(try env.count("select count(*)::int8 as n from data_keys where id = $1", [lead]) == 0)
        #expect(try EraseLog.read(path: env.settings.eraseLogFile!).map(\.subject) == [customer])
        #expect(CommandAccess.decide(.init(name: "m", role: .manager), routingKey: "identity.erase", named: nil, owners: []) != nil)
    }

    @Test("a wrong or missing KEK stops the worker at start, and it writes nothing", .timeLimit(.minutes(2)))
    func wrongKEK() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let right = try KeyEncryptionKey.load(path: env.settings.kekFile!)[0]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-kek-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let wrong = dir.appendingPathComponent("wrong.kek").path
        try KeyEncryptionKey.save([try KeyEncryptionKey(id: right.id, suite: right.suite, bytes: RandomBytes.make(32))], path: wrong)
        let other = dir.appendingPathComponent("other.kek").path
        try KeyEncryptionKey.save([KeyEncryptionKey.generate(suite: .aes256gcm)], path: other)
        let open = dir.appendingPathComponent("open.kek").path
        try KeyEncryptionKey.save([right], path: open)
        chmod(open, 0o644)

        #expect { try Keyring(kekFile: wrong).attach(db: db) } throws: { ($0 as? KeyringError)?.code == .kekMismatch }
        #expect { try Keyring(kekFile: other).attach(db: db) } throws: { ($0 as? KeyringError)?.code == .kekMissing }
        #expect { try Keyring(kekFile: dir.appendingPathComponent("none").path) } throws: { ($0 as? KeyringError)?.code == .kekMissing }
        #expect { try Keyring(kekFile: open) } throws: { "\($0)".contains("readable by others") }

        try env.publish([DemoData.webForm(0, run: "wk", messageID: "wk-1")])
        for (file, says) in [(wrong, "kek_mismatch"), (dir.appendingPathComponent("none").path, "no KEK file")] {
            let worker = try WorkerProcess(env: env, overrides: ["RAPPORT_KEK_FILE": file], captureLog: true)
            let deadline = ContinuousClock.now + .seconds(40)
            while worker.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
            #expect(!worker.isRunning)
            #expect(worker.terminate() != 0)
            #expect(worker.logText.contains(says))
        }
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger") == 0)
        // Only the blind-index key the test environment's own keyring made.
        #expect(try env.count("select count(*)::int8 as n from data_keys where id not in (select key_id from index_keys)") == 0)
    }

    @Test("rotating the KEK while 1,000 messages are ingested loses and doubles nothing", .timeLimit(.minutes(4)))
    func rotationUnderLoad() async throws {
        let env = try TestEnvironment(batchSize: 50)
        defer { env.tearDown() }
        let worker = try WorkerProcess(env: env)
        defer { worker.terminate() }
        let db = try env.db()
        defer { db.close() }
        // Some keys under the first KEK before the rotation starts.
        try env.publish((0..<200).map { DemoData.webForm($0 % 150, run: "rot", messageID: "rot-\($0)") })
        try await env.waitUntil("first part", timeout: .seconds(60)) { try env.count("select count(*)::int8 as n from inbound_ledger") > 50 }
        let publishing = Task.detached {
            try env.publish((200..<1000).map { DemoData.webForm($0 % 600, run: "rot", messageID: "rot-\($0)") })
        }
        let path = env.settings.kekFile!
        let old = try KeyEncryptionKey.load(path: path)
        let new = KeyEncryptionKey.generate(suite: .aes256gcm)
        try KeyEncryptionKey.save(old + [new], path: path)
        let keyring = try Keyring(kekFile: path)
        var reports = 0
        let moved = try KeyAdmin(db: db, keyring: keyring).rotate(to: new, batch: 40, settle: 6, actor: "test") { _, _ in reports += 1 }
        try await publishing.value
        try await env.waitUntil("all ingested", timeout: .seconds(120)) { try env.count("select count(*)::int8 as n from inbound_ledger") == 1000 }
        #expect(moved > 0 && reports > 0)
        #expect(try env.count("select count(distinct message_id)::int8 as n from inbound_ledger") == 1000)
        #expect(try env.count("select count(*)::int8 as n from data_keys where kek_id <> $1", [new.id]) == 0)
        #expect(try env.count("select count(*)::int8 as n from key_encryption_keys where id = $1 and current", [new.id]) == 1)
        #expect(try env.count("select count(*)::int8 as n from key_encryption_keys where id <> $1 and retired_at is not null", [new.id]) == 1)
        #expect(try env.count("select count(*)::int8 as n from audit_log where action = 'keys.rotate.finished'") == 1)
        // Every row opens under the keys as they are now, with only the new KEK in the file.
        try KeyEncryptionKey.save([new], path: path)
        #expect(try LedgerSeal.open(try db.query(Self.ledgerRows), keyring: Keyring(kekFile: path), db: db).count == 1000)
    }

    @Test("the 国密 suite: a worker switched to SM4 seals new rows with it and still reads the AES ones", .timeLimit(.minutes(2)))
    func suitesSideBySide() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        try env.publish([DemoData.webForm(0, run: "gm", messageID: "gm-1")])
        try await env.waitUntil("AES row") { try env.count("select count(*)::int8 as n from inbound_ledger") == 1 }
        workers.stop()
        let worker = try WorkerProcess(env: env, overrides: ["RAPPORT_CIPHER_SUITE": "sm4-ctr-hmac-sm3"])
        defer { worker.terminate() }
        // The same person again (matched against the AES row) and someone new.
        try env.publish([DemoData.webForm(0, run: "gm", messageID: "gm-2"), DemoData.webForm(1, run: "gm", messageID: "gm-3")])
        try await env.waitUntil("SM4 rows") { try env.count("select count(*)::int8 as n from inbound_ledger") == 3 }
        let db = try env.db()
        defer { db.close() }
        let rows = try db.query(Self.ledgerRows)
        let suites = try rows.map { CipherSuite.of(Array(try $0.decode("sealed", as: Data.self))) }
        #expect(suites == [.aes256gcm, .sm4ctrHMACSM3, .sm4ctrHMACSM3])
        #expect(try db.query("select outcome from inbound_ledger where message_id = 'gm-2'").first?["outcome"] == "merged")
        let opened = try LedgerSeal.open(rows, keyring: Keyring(kekFile: env.settings.kekFile!, suite: .aes256gcm), db: db)
        #expect(opened.count == 3)
        #expect(opened[1]?["name"]?.stringValue == DemoData.person(0, run: "gm").name)
    }

    @Test("a dead letter's body is sealed under its own key; admins with the KEK read and replay it", .timeLimit(.minutes(2)))
    func sealedDeadLetters() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        let bad = DemoData.malformed(0, run: "dl")
        try env.publish([bad])
        try await env.waitUntil("archived") { try env.count("select count(*)::int8 as n from dead_letters") == 1 }
        let db = try env.db()
        defer { db.close() }
        #expect(try env.count("select count(*)::int8 as n from dead_letters where body_key is not null and position($1::bytea in body) = 0",
                              [Data(bad.body.prefix(24))]) == 1)
        let id: Int64 = try db.query("select id from dead_letters").first!.decode("id")
        #expect(try DeadLetterAdmin(db: db, keyring: env.keyring).show(id)?.body == bad.body)
        #expect(try DeadLetterAdmin(db: db).show(id)?.body == nil)
    }

    static func sub(_ id: String, _ name: String, phone: String? = nil, email: String? = nil) -> LeadSubmission {
        LeadSubmission(source: "site", channel: "webform", messageID: id, name: name, phone: phone, email: email,
                       company: "上海星河科技有限公司", address: "上海市浦东新区世纪大道100号")
    }

    @Test("reindex: a database's plaintext keys become blind, then move to a new index key; matching, unmerge and customer lookups go on",
          .timeLimit(.minutes(2)))
    func reindex() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        // A database from before blind indexes: keys written in plaintext, no index version yet.
        try db.query("delete from data_keys where id in (select key_id from index_keys)")
        try db.query("delete from index_keys")
        env.keyring.forgetIndex()
        let before = LeadStore(connection: db)
        _ = try before.ingest([Self.sub("r-1", "张伟", phone: "+8613812340001", email: "zhangwei@xinghe.cn"),
                               Self.sub("r-2", "李娜", phone: "+8613812340002"), Self.sub("r-3", "王芳", phone: "+8613812340003")])
        let lead = { (phone: String) throws -> UUID in
            try db.query("select id from leads where phone = $1 and merged_into is null", [phone]).first!.decode("id")
        }
        let (li, wang) = (try lead("+8613812340002"), try lead("+8613812340003"))
        let merge = try LeadMerge(db: db).merge(winner: li, loser: wang, actor: "t")
        guard case .created = try Customers(db: db).add(["name": "赵敏", "phones": ["13812340009"]], actor: "t") else {
            Issue.record("customer not created"); return
        }
        #expect(try env.keyring.blindIndex(db: db).isPlain)
        #expect(try env.count("select count(*)::int8 as n from lead_identities where key = 'phone:+8613812340001'") == 1)

        let admin = KeyAdmin(db: db, keyring: env.keyring)
        let first = try admin.reindex(actor: "t")
        #expect(first.version == 1 && first.orphans.values.allSatisfy { $0 == 0 })
        #expect(first.translated["lead_identities"] == 4 && first.translated["customer_identities"] == 1)
        for phone in ["13812340001", "13812340002", "13812340009", "zhangwei"] {
            #expect(try Self.plaintext(phone, in: ["lead_identities", "lead_keys", "customer_identities"], db: db) == [])
        }
        // (The ledger and the merges' before-images stay plaintext: this store wrote them with encryption off.)
        #expect(try env.count("select count(*)::int8 as n from lead_merges, unnest(loser_identities || loser_keys || winner_keys) k where k like '%+86%'") == 0)
        let v1 = Set(try db.query("select key from lead_identities union all select key from lead_keys").map { try $0.decode("key") as String })

        // Blind to blind: the plaintext comes back from the sealed ledger, the leads and the customers.
        let second = try admin.reindex(actor: "t")
        #expect(second.version == 2)
        #expect(second.orphans["lead_identities"] == 0 && second.orphans["customer_identities"] == 0 && second.orphans["lead_keys"] == 0)
        let v2 = Set(try db.query("select key from lead_identities union all select key from lead_keys").map { try $0.decode("key") as String })
        #expect(v2.count == v1.count && v1.isDisjoint(with: v2))
        #expect(try env.count("select count(*)::int8 as n from index_keys where current and version = 2") == 1)
        #expect(try env.count("select count(*)::int8 as n from audit_log where action = 'keys.reindex'") == 2)

        // Decisions are as before: the same people are found by phone, email and customer phone.
        var after = LeadStore(connection: db)
        after.keyring = env.keyring
        let plan = try after.ingest([Self.sub("r-4", "张伟", email: "zhangwei@xinghe.cn"), Self.sub("r-5", "王芳", phone: "+8613812340003")])
        #expect(plan.decisions.map(\.leadID) == [try lead("+8613812340001"), li])
        guard case .matched = try Customers(db: db, keyring: env.keyring).add(["name": "赵敏", "phones": ["13812340009"]], actor: "t") else {
            Issue.record("the customer's phone no longer matches"); return
        }
        // The merge record's keys were translated: the unmerge gives 王芳 her phone back.
        try LeadMerge(db: db).unmerge(merge, actor: "t")
        let back = try after.ingest([Self.sub("r-6", "王芳", phone: "+8613812340003")])
        #expect(back.decisions.first?.leadID == wang)
    }

    @Test("reindexing while a worker ingests: every commit uses the current index, so nobody gets a second lead", .timeLimit(.minutes(3)))
    func reindexUnderLoad() async throws {
        let env = try TestEnvironment(batchSize: 25)
        defer { env.tearDown() }
        let worker = try WorkerProcess(env: env)
        defer { worker.terminate() }
        let db = try env.db()
        defer { db.close() }
        try env.publish((0..<300).map { DemoData.webForm($0, run: "rx", messageID: "rx-a\($0)") })
        try await env.waitUntil("first part", timeout: .seconds(60)) { try env.count("select count(*)::int8 as n from inbound_ledger") > 40 }
        // The same 300 people again, their phones written another way, while the index changes twice.
        let publishing = Task.detached {
            try env.publish((0..<300).map { DemoData.webForm($0, run: "rx", messageID: "rx-b\($0)", phoneStyle: 1) })
        }
        let admin = KeyAdmin(db: db, keyring: env.keyring)
        var during = 0, version = 1
        let deadline = ContinuousClock.now + .seconds(90)
        while try env.count("select count(*)::int8 as n from inbound_ledger") < 600 && ContinuousClock.now < deadline {
            version = try admin.reindex(actor: "test").version
            during += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        try await publishing.value
        try await env.waitUntil("all ingested", timeout: .seconds(120)) { try env.count("select count(*)::int8 as n from inbound_ledger") == 600 }
        #expect(during >= 1 && version == 1 + during)
        #expect(try env.count("select count(distinct lead_id)::int8 as n from inbound_ledger") == 300)
        #expect(try env.count("select count(*)::int8 as n from leads where merged_into is null") == 300)
        #expect(try env.count("select count(*)::int8 as n from duplicate_candidates") == 0)
    }
}
