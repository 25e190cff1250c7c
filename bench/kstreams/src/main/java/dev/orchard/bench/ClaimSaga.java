package dev.orchard.bench;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The claim saga of Orchard, written with Kafka Streams, for the side-by-side
 * benchmark (bench/README.md). Same topics, same Avro records on the wire
 * (Orchard's schemas/*.avsc, plain Avro), same steps:
 *
 * <pre>
 * rep.commands claim_requested (key rep) -> rep ledger: refuse, or reserve quota
 *   -> lead.commands claim_reserved (key lead) -> lead: first claim wins
 *   -> decisions (the answer), assignments, events, rep.commands claim_settled
 *   -> rep ledger: the reservation becomes a claim (or is refunded)
 * </pre>
 *
 * Like Orchard's processors the ledgers answer replays the same (a rep
 * remembers its last 256 settled requests, a lead its winning request),
 * keep their state in memory with a changelog topic, and count rolling-hour
 * quota with pending reservations.
 */
public final class ClaimSaga {
  static final int RECENT = 256;

  final Schema repCommand, leadCommand, decision, repUpsert, leadIntake, assignment, event;

  ClaimSaga(File schemas) throws IOException {
    repCommand = new Schema.Parser().parse(new File(schemas, "rep_command.avsc"));
    leadCommand = new Schema.Parser().parse(new File(schemas, "lead_command.avsc"));
    decision = new Schema.Parser().parse(new File(schemas, "decision.avsc"));
    repUpsert = new Schema.Parser().parse(new File(schemas, "rep_upsert.avsc"));
    leadIntake = new Schema.Parser().parse(new File(schemas, "lead_intake.avsc"));
    assignment = new Schema.Parser().parse(new File(schemas, "assignment.avsc"));
    event = new Schema.Parser().parse(new File(schemas, "event.avsc"));
  }

  static GenericRecord read(Schema s, byte[] b) {
    try {
      return new GenericDatumReader<GenericRecord>(s).read(null, DecoderFactory.get().binaryDecoder(b, null));
    } catch (IOException e) {
      return null; // not this record type: skipped, like a dead letter
    }
  }

  static byte[] write(GenericRecord r) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
      new GenericDatumWriter<GenericRecord>(r.getSchema()).write(r, enc);
      enc.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A record of schema s with every field at its default, then the given ones. */
  static GenericRecord record(Schema s, Object... kv) {
    GenericRecord r = new GenericData.Record(s);
    for (Schema.Field f : s.getFields()) {
      if (f.hasDefaultValue()) {
        r.put(f.name(), GenericData.get().getDefaultValue(f));
      }
    }
    for (int i = 0; i < kv.length; i += 2) {
      r.put((String) kv[i], kv[i + 1]);
    }
    return r;
  }

  static String str(GenericRecord r, String f) {
    Object v = r.get(f);
    return v == null ? "" : v.toString();
  }

  static long lng(GenericRecord r, String f) {
    Object v = r.get(f);
    return v == null ? 0 : ((Number) v).longValue();
  }

  // ---- the rep ledger ----

  static final class Ledger {
    boolean active;
    final ArrayDeque<Long> claims = new ArrayDeque<>(); // won claims, the last hour
    final Map<String, String> pending = new LinkedHashMap<>(); // request id -> lead id
    final Map<String, Boolean> recent = new LinkedHashMap<>(); // settled request id -> ok, oldest first

    byte[] encode() {
      try {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64 + 24 * recent.size());
        DataOutputStream o = new DataOutputStream(b);
        o.writeBoolean(active);
        o.writeInt(claims.size());
        for (long c : claims) o.writeLong(c);
        o.writeInt(pending.size());
        for (Map.Entry<String, String> e : pending.entrySet()) {
          o.writeUTF(e.getKey());
          o.writeUTF(e.getValue());
        }
        o.writeInt(recent.size());
        for (Map.Entry<String, Boolean> e : recent.entrySet()) {
          o.writeUTF(e.getKey());
          o.writeBoolean(e.getValue());
        }
        return b.toByteArray();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    static Ledger decode(byte[] b) {
      Ledger l = new Ledger();
      if (b == null) return l;
      try {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
        l.active = in.readBoolean();
        for (int n = in.readInt(); n > 0; n--) l.claims.add(in.readLong());
        for (int n = in.readInt(); n > 0; n--) l.pending.put(in.readUTF(), in.readUTF());
        for (int n = in.readInt(); n > 0; n--) l.recent.put(in.readUTF(), in.readBoolean());
        return l;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void settled(String id, boolean ok) {
      recent.put(id, ok);
      while (recent.size() > RECENT) {
        String oldest = recent.keySet().iterator().next();
        recent.remove(oldest);
      }
    }
  }

  final class RepProcessor implements Processor<String, byte[], String, byte[]> {
    ProcessorContext<String, byte[]> ctx;
    KeyValueStore<String, byte[]> reps;
    final long perHour;

    RepProcessor(long perHour) {
      this.perHour = perHour;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
      ctx = context;
      reps = context.getStateStore("reps");
    }

    @Override
    public void process(Record<String, byte[]> rec) {
      String topic = ctx.recordMetadata().map(m -> m.topic()).orElse("");
      if (topic.endsWith("reps.intake")) {
        GenericRecord u = read(repUpsert, rec.value());
        if (u == null) return;
        Ledger l = Ledger.decode(reps.get(rec.key()));
        l.active = (Boolean) u.get("active");
        reps.put(rec.key(), l.encode());
        return;
      }
      GenericRecord c = read(repCommand, rec.value());
      if (c == null) return;
      String type = str(c, "type"), id = str(c, "request_id");
      long at = lng(c, "at");
      Ledger l = Ledger.decode(reps.get(rec.key()));
      switch (type) {
        case "claim_requested": {
          Boolean done = l.recent.get(id);
          if (done != null) { // a retry of a finished claim: the same answer
            answer(id, done, done ? "" : "already_claimed", at, str(c, "lead_id"), rec.key());
            return;
          }
          if (l.pending.containsKey(id)) { // in flight: forward again
            forwardReserved(rec.key(), id, l.pending.get(id), at);
            return;
          }
          if (!l.active) {
            answer(id, false, "unknown_rep", at, str(c, "lead_id"), rec.key());
            return;
          }
          while (!l.claims.isEmpty() && l.claims.peekFirst() <= at - 3_600_000L) l.claims.pollFirst();
          if (l.claims.size() + l.pending.size() >= perHour) {
            l.settled(id, false);
            reps.put(rec.key(), l.encode());
            answer(id, false, "quota_hour", at, str(c, "lead_id"), rec.key());
            return;
          }
          l.pending.put(id, str(c, "lead_id"));
          reps.put(rec.key(), l.encode());
          forwardReserved(rec.key(), id, str(c, "lead_id"), at);
          return;
        }
        case "claim_settled": {
          if (l.recent.containsKey(id)) return; // a replay
          l.pending.remove(id);
          boolean ok = (Boolean) c.get("ok");
          if (ok) l.claims.addLast(at);
          l.settled(id, ok);
          reps.put(rec.key(), l.encode());
          return;
        }
        default:
      }
    }

    void forwardReserved(String rep, String id, String lead, long at) {
      GenericRecord r = record(leadCommand, "lead_id", lead, "request_id", id, "type", "claim_reserved", "at", at, "rep_id", rep, "rep_tier", 1);
      ctx.forward(new Record<>(lead, write(r), at), "to-lead");
    }

    void answer(String id, boolean ok, String code, long at, String lead, String rep) {
      GenericRecord d = record(decision, "request_id", id, "ok", ok, "code", code, "at", at, "lead_id", lead, "rep_id", rep,
          "method", ok ? "cherry_pick" : "");
      ctx.forward(new Record<>(id, write(d), at), "rep-decisions");
    }
  }

  // ---- the lead ----

  final class LeadProcessor implements Processor<String, byte[], String, byte[]> {
    ProcessorContext<String, byte[]> ctx;
    KeyValueStore<String, byte[]> leads;

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
      ctx = context;
      leads = context.getStateStore("leads");
    }

    // Lead state: status (0 available, 1 assigned), owner, winning request.
    @Override
    public void process(Record<String, byte[]> rec) {
      String topic = ctx.recordMetadata().map(m -> m.topic()).orElse("");
      if (topic.endsWith("leads.intake")) {
        GenericRecord in = read(leadIntake, rec.value());
        if (in == null || leads.get(rec.key()) != null) return;
        leads.put(rec.key(), encode(0, "", ""));
        return;
      }
      GenericRecord c = read(leadCommand, rec.value());
      if (c == null || !"claim_reserved".equals(str(c, "type"))) return;
      String id = str(c, "request_id"), rep = str(c, "rep_id");
      long at = lng(c, "at");
      String[] st = decode(leads.get(rec.key()));
      boolean ok;
      String code = "";
      if (st == null) {
        ok = false;
        code = "unknown_lead";
      } else if (st[0].equals("0")) {
        ok = true;
        leads.put(rec.key(), encode(1, rep, id));
        GenericRecord a = record(assignment, "event_id", rec.key() + "/1/assigned", "lead_id", rec.key(), "type", "assigned", "at", at,
            "epoch", 1, "rep_id", rep, "method", "cherry_pick");
        ctx.forward(new Record<>(rec.key(), write(a), at), "assignments");
        GenericRecord e = record(event, "event_id", rec.key() + "/1/assigned", "type", "assigned", "at", at, "lead_id", rec.key(),
            "rep_id", rep, "request_id", id, "method", "cherry_pick");
        ctx.forward(new Record<>(rec.key(), write(e), at), "events");
      } else {
        ok = st[2].equals(id); // a replay of the winning claim wins again
        if (!ok) code = "already_claimed";
      }
      GenericRecord d = record(decision, "request_id", id, "ok", ok, "code", code, "at", at, "lead_id", rec.key(), "rep_id", rep,
          "method", ok ? "cherry_pick" : "");
      ctx.forward(new Record<>(id, write(d), at), "lead-decisions");
      GenericRecord s = record(repCommand, "rep_id", rep, "request_id", id, "type", "claim_settled", "at", at, "lead_id", rec.key(),
          "ok", ok, "code", code);
      ctx.forward(new Record<>(rep, write(s), at), "to-rep");
    }

    byte[] encode(int status, String owner, String request) {
      return (status + "\u0000" + owner + "\u0000" + request).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    String[] decode(byte[] b) {
      if (b == null) return null;
      return new String(b, java.nio.charset.StandardCharsets.UTF_8).split("\u0000", -1);
    }
  }

  Topology topology(String prefix, long perHour) {
    var str = Serdes.String();
    var bytes = Serdes.ByteArray();
    Topology t = new Topology();
    t.addSource("rep-in", str.deserializer(), bytes.deserializer(), prefix + "reps.intake", prefix + "rep.commands");
    t.addProcessor("rep", () -> new RepProcessor(perHour), "rep-in");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("reps"), str, bytes), "rep");
    t.addSink("to-lead", prefix + "lead.commands", str.serializer(), bytes.serializer(), "rep");
    t.addSink("rep-decisions", prefix + "decisions", str.serializer(), bytes.serializer(), "rep");
    t.addSource("lead-in", str.deserializer(), bytes.deserializer(), prefix + "leads.intake", prefix + "lead.commands");
    t.addProcessor("lead", LeadProcessor::new, "lead-in");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("leads"), str, bytes), "lead");
    t.addSink("lead-decisions", prefix + "decisions", str.serializer(), bytes.serializer(), "lead");
    t.addSink("to-rep", prefix + "rep.commands", str.serializer(), bytes.serializer(), "lead");
    t.addSink("assignments", prefix + "assignments", str.serializer(), bytes.serializer(), "lead");
    t.addSink("events", prefix + "events", str.serializer(), bytes.serializer(), "lead");
    return t;
  }

  /**
   * Usage: ClaimSaga --bootstrap HOST:PORT --prefix P --schemas DIR
   * [--guarantee at_least_once|exactly_once_v2] [--threads N] [--state-dir D]
   * [--per-hour N]. Prints "twin ready" once running; stops on SIGTERM.
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    List<String> missing = new ArrayList<>();
    for (String k : List.of("bootstrap", "prefix", "schemas")) if (!a.containsKey(k)) missing.add("--" + k);
    if (!missing.isEmpty()) {
      System.err.println("missing " + String.join(", ", missing));
      System.exit(2);
    }
    String guarantee = a.getOrDefault("guarantee", "at_least_once");
    if (!guarantee.equals("at_least_once") && !guarantee.equals("exactly_once_v2")) {
      System.err.println("--guarantee: at_least_once or exactly_once_v2, not " + guarantee);
      System.exit(2);
    }
    ClaimSaga saga = new ClaimSaga(new File(a.get("schemas")));
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, a.get("prefix") + "twin-" + guarantee.replace('_', '-'));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(a.getOrDefault("threads", "2")));
    p.put(StreamsConfig.STATE_DIR_CONFIG, a.getOrDefault("state-dir", System.getProperty("java.io.tmpdir") + "/orchard-twin"));
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    // Latency settings comparable to Orchard's: no linger, a short fetch wait.
    p.put(StreamsConfig.producerPrefix("linger.ms"), 0);
    p.put(StreamsConfig.consumerPrefix("fetch.max.wait.ms"), 20);
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    KafkaStreams streams = new KafkaStreams(saga.topology(a.get("prefix"), Long.parseLong(a.getOrDefault("per-hour", "1000000"))), p);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      stopped.countDown();
    }));
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING) System.out.println("twin ready (" + guarantee + ")");
      if (now == KafkaStreams.State.ERROR) System.err.println("twin failed");
    });
    streams.start();
    stopped.await();
  }
}
