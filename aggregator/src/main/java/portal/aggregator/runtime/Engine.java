package portal.aggregator.runtime;


import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import portal.aggregator.http.HttpApi;
import portal.aggregator.serde.WireFormatDecoder;
import portal.aggregator.topology.Definition;

/**
 * Follows the definitions table and keeps one running topology per definition in this process.
 *
 * <p>At start it reads the table to its end before starting anything, so a definition that changed ten times
 * starts once, at its last version; then it keeps following. A new version starts its new topology first, then
 * stops the old one and deletes the old application's internal topics and local state; a tombstone stops the
 * definition and deletes them too. Every change and every 5 s it writes this instance's status row of each
 * definition; a topology in ERROR is retried every 30 s.
 */
public final class Engine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long STATUS_EVERY_MS = 5_000;
    private static final long RETRY_AFTER_MS = 30_000;
    private final EngineConfig config;
    private final WireFormatDecoder decoder;
    private final Map<String, RunningDefinition> running = new ConcurrentHashMap<>();
    private final Admin admin;
    private final KafkaProducer<String, String> statusProducer;
    private final KafkaConsumer<String, byte[]> definitions;
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "aggregator-status");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean stopping;

    public Engine(EngineConfig config, WireFormatDecoder decoder) {
        this.config = config;
        this.decoder = decoder;
        this.admin = Admin.create(config.clientProperties());
        Properties producer = config.clientProperties();
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer.put(ProducerConfig.ACKS_CONFIG, "all");
        producer.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        this.statusProducer = new KafkaProducer<>(producer);
        Properties consumer = config.clientProperties();
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        consumer.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumer.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.definitions = new KafkaConsumer<>(consumer);
    }

    public Map<String, RunningDefinition> running() {
        return running;
    }

    /** What the HTTP port shows of one definition. */
    public HttpApi.DefinitionView view(RunningDefinition r) {
        return new HttpApi.DefinitionView(r.definition.version, r.state(), r.error(), r.counters.recordsIn.get(),
                r.counters.windowsEmitted.get(), r.counters.lateDropped.get(), r.counters.lateDeadLettered.get(),
                r.lag());
    }

    /** Follows the definitions table until {@link #close()}; returns only then. */
    public void run() {
        ticker.scheduleAtFixedRate(this::tick, STATUS_EVERY_MS, STATUS_EVERY_MS, TimeUnit.MILLISECONDS);
        List<TopicPartition> partitions = waitForPartitions();
        definitions.assign(partitions);
        definitions.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = definitions.endOffsets(partitions);
        Map<String, byte[]> initial = new LinkedHashMap<>();
        try {
            while (!stopping && !reached(end)) {
                for (ConsumerRecord<String, byte[]> r : poll()) {
                    initial.remove(r.key());
                    initial.put(r.key(), r.value());
                }
            }
            LOG.info("definitions table read: {} rows", initial.size());
            initial.forEach(this::apply);
            while (!stopping) {
                for (ConsumerRecord<String, byte[]> r : poll()) {
                    apply(r.key(), r.value());
                }
            }
        } catch (WakeupException e) {
            if (!stopping) {
                throw e;
            }
        } finally {
            definitions.close(Duration.ofSeconds(5));
        }
    }

    /**
     * A poll that outlives refusals: until the portal has provisioned the engine's principal (its SCRAM
     * credential, its ACLs) Kafka refuses it, and the engine waits for that rather than exiting.
     */
    private Iterable<ConsumerRecord<String, byte[]>> poll() {
        try {
            return definitions.poll(Duration.ofMillis(500));
        } catch (AuthenticationException | AuthorizationException e) {
            LOG.warn("definitions topic refused ({}); retrying", e.getMessage());
            sleep(2000);
            return List.of();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private List<TopicPartition> waitForPartitions() {
        while (!stopping) {
            try {
                var info = definitions.partitionsFor(config.definitionsTopic(), Duration.ofSeconds(10));
                if (info != null && !info.isEmpty()) {
                    return info.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                }
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                // not there yet
            } catch (AuthenticationException | AuthorizationException e) {
                LOG.warn("definitions topic refused ({}); retrying", e.getMessage());
                sleep(2000);
            }
            LOG.warn("waiting for the definitions topic {}", config.definitionsTopic());
        }
        return List.of();
    }

    private boolean reached(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (definitions.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** One row of the definitions table: a new definition, a new version, the same again, or a tombstone. */
    synchronized void apply(String id, byte[] value) {
        if (id == null) {
            return;
        }
        RunningDefinition old = running.get(id);
        if (value == null) {
            if (old != null) {
                LOG.info("{}: deleted, stopping {}", id, old.definition.applicationId);
                running.remove(id);
                retire(old);
                writeTombstone(id);
            }
            return;
        }
        Definition definition;
        try {
            definition = Definition.parse(JSON.readTree(value), false);
        } catch (IOException e) {
            definition = Definition.parse(null, false);
        }
        if (definition.id == null) {
            definition.id = id;
        }
        if (old != null && definition.valid() && definition.applicationId.equals(old.definition.applicationId)) {
            // The same version again (a re-sent row): nothing to do, unless it failed, then it is tried again now
            // (same application: its state and internal topics stay).
            if ("ERROR".equals(old.state())) {
                old.restart();
            }
            return;
        }
        RunningDefinition next = new RunningDefinition(definition, config, decoder, () -> writeStatus(id));
        running.put(id, next);
        LOG.info("{}: starting version {} ({})", id, definition.version, definition.applicationId);
        next.start();
        writeStatus(id);
        if (old != null) {
            retire(old);
        }
    }

    /** Stops an old version and deletes its application's internal topics, consumer group and local state. */
    private void retire(RunningDefinition old) {
        old.stop(true);
        String applicationId = old.definition.applicationId;
        if (applicationId == null) {
            return;
        }
        try {
            Set<String> internal = admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                    .filter(t -> t.startsWith(applicationId + "-")
                            && (t.endsWith("-changelog") || t.endsWith("-repartition")))
                    .collect(Collectors.toSet());
            if (!internal.isEmpty()) {
                admin.deleteTopics(internal).all().get(30, TimeUnit.SECONDS);
            }
            LOG.info("{}: deleted internal topics {}", applicationId, internal);
        } catch (Exception e) {
            LOG.warn("{}: internal topics not deleted: {}", applicationId, e.getMessage());
        }
        try {
            admin.deleteConsumerGroups(List.of(applicationId)).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // another engine process may still be a member until it reads the same row; its group then empties
            LOG.info("{}: consumer group not deleted: {}", applicationId, e.getMessage());
        }
    }

    private void tick() {
        try {
            for (RunningDefinition r : new ArrayList<>(running.values())) {
                if (r.failedLongerThan(RETRY_AFTER_MS)) {
                    LOG.info("{}: retrying after ERROR ({})", r.definition.id, r.error());
                    r.restart();
                }
            }
            running.keySet().forEach(this::writeStatus);
        } catch (RuntimeException e) {
            LOG.warn("status tick failed: {}", e.getMessage(), e);
        }
    }

    void writeStatus(String id) {
        RunningDefinition r = running.get(id);
        if (r == null || stopping) {
            return;
        }
        ObjectNode row = JSON.createObjectNode();
        row.put("id", id);
        row.put("version", r.definition.version);
        row.put("instance", config.instanceId());
        row.put("state", r.state());
        row.put("error", r.error());
        row.put("updated_ms", System.currentTimeMillis());
        ObjectNode metrics = row.putObject("metrics");
        metrics.put("records_in", r.counters.recordsIn.get());
        metrics.put("windows_emitted", r.counters.windowsEmitted.get());
        metrics.put("late_dropped", r.counters.lateDropped.get());
        metrics.put("late_dead_lettered", r.counters.lateDeadLettered.get());
        metrics.put("lag", r.lag());
        statusProducer.send(new ProducerRecord<>(config.statusTopic(), statusKey(id), row.toString()), (md, e) -> {
            if (e != null) {
                LOG.warn("status row of {} not written: {}", id, e.getMessage());
            }
        });
    }

    private void writeTombstone(String id) {
        statusProducer.send(new ProducerRecord<>(config.statusTopic(), statusKey(id), null));
        statusProducer.flush();
    }

    private String statusKey(String id) {
        return id + "@" + config.instanceId();
    }

    /** Stops every topology (keeping its state and topics: this is a restart, not a deletion). */
    @Override
    public void close() {
        stopping = true;
        definitions.wakeup();
        ticker.shutdownNow();
        synchronized (this) {
            for (Map.Entry<String, RunningDefinition> e : running.entrySet()) {
                e.getValue().stop(false);
                statusProducer.send(new ProducerRecord<>(config.statusTopic(), statusKey(e.getKey()), null));
            }
        }
        statusProducer.close(Duration.ofSeconds(10));
        admin.close(Duration.ofSeconds(10));
    }

}
