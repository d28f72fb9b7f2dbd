// The snapshot tag message: its block, tag names and numbering, best and comparison.
#include "gitmodel/core/error.hpp"
#include "gitmodel/snapshots/snapshot.hpp"

#include <catch2/catch.hpp>

using namespace gm::snapshots;

namespace {

SnapshotRecord sample() {
    SnapshotRecord record;
    record.model = "resnet50";
    record.version = 3;
    record.image = "registry.example.com/team/pytorch:2.3";
    record.metrics = parse_metric_arguments({"acc=0.913", "val/loss=0.21"});
    record.message = "tuned the learning rate";
    return record;
}

Snapshot snap(unsigned version, std::vector<std::string> metrics) {
    Snapshot s;
    s.tag = snapshot_tag_name("m", version);
    s.commit = std::string(40, static_cast<char>('0' + version % 10));
    s.record.model = "m";
    s.record.version = version;
    s.record.metrics = parse_metric_arguments(metrics);
    return s;
}

}  // namespace

TEST_CASE("snapshot message: the documented block, last", "[snapshots]") {
    CHECK(format_snapshot_message(sample()) ==
          "tuned the learning rate\n"
          "\n"
          "Model-Snapshot: 1\n"
          "Model: resnet50\n"
          "Model-Version: 3\n"
          "Model-Image: registry.example.com/team/pytorch:2.3\n"
          "Metric: acc=0.913\n"
          "Metric: val/loss=0.21\n");
    SnapshotRecord bare;
    bare.model = "bert";
    bare.version = 1;
    CHECK(format_snapshot_message(bare) ==
          "Snapshot v1 of model bert\n\nModel-Snapshot: 1\nModel: bert\nModel-Version: 1\nModel-Image: none\n");
}

TEST_CASE("snapshot message: round trip", "[snapshots]") {
    const auto record = sample();
    const auto back = parse_snapshot_message(format_snapshot_message(record));
    CHECK(back.model == record.model);
    CHECK(back.version == 3);
    CHECK(back.image == record.image);
    CHECK(back.message == record.message);
    REQUIRE(back.metrics.size() == 2);
    CHECK(back.metrics[1].name == "val/loss");
    CHECK(back.metrics[1].text == "0.21");
    SnapshotRecord no_image = record;
    no_image.image.reset();
    CHECK_FALSE(parse_snapshot_message(format_snapshot_message(no_image)).image);
    CHECK_FALSE(back.image_id);
}

TEST_CASE("snapshot message: a metric given twice is refused before any tag could carry it", "[snapshots]") {
    // Every reader refuses such a block ("appears twice"): a tag with it would be made and pushed unreadable.
    SnapshotRecord record = sample();
    record.metrics.push_back(record.metrics.front());
    record.metrics.back().text = "0.5";
    CHECK_THROWS_WITH(format_snapshot_message(record), Catch::Contains("the metric 'acc' is given twice"));
}

TEST_CASE("snapshot message: the image id its environment ran", "[snapshots]") {
    auto record = sample();
    record.image_id = "sha256:" + std::string(64, 'e');
    const std::string text = format_snapshot_message(record);
    CHECK_THAT(text, Catch::Contains("Model-Image: registry.example.com/team/pytorch:2.3\nModel-Image-Id: sha256:eee"));
    CHECK(parse_snapshot_message(text).image_id == record.image_id);
    // A tag from before image ids were recorded reads as it did.
    CHECK_FALSE(parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 1\nModel-Image: a:1\n").image_id);
}

TEST_CASE("snapshot message: a worktree with uncommitted changes", "[snapshots]") {
    auto record = sample();
    record.image_id = "sha256:" + std::string(64, 'e');
    record.dirty = std::string(40, 'd');
    const std::string text = format_snapshot_message(record);
    CHECK_THAT(text, Catch::Contains("Model-Image-Id: sha256:" + std::string(64, 'e') + "\nModel-Dirty: " +
                                     std::string(40, 'd') + "\nMetric: acc=0.913\n"));
    CHECK(parse_snapshot_message(text).dirty == record.dirty);
    // Clean: no line at all, and a tag from before the flag existed reads as clean.
    CHECK_THAT(format_snapshot_message(sample()), !Catch::Contains("Model-Dirty"));
    CHECK_FALSE(parse_snapshot_message(format_snapshot_message(sample())).dirty);
    Snapshot s;
    s.record = record;
    CHECK(to_json(s)["dirty"] == true);
    CHECK(to_json(s)["dirty_hash"] == std::string(40, 'd'));
}

TEST_CASE("snapshot message: a message that imitates the block is not the block", "[snapshots]") {
    auto record = sample();
    record.message = "subject\n\nModel-Snapshot: 1\nModel: evil\nModel-Version: 99\nMetric: acc=1\n\n\n";
    const auto back = parse_snapshot_message(format_snapshot_message(record));
    CHECK(back.model == "resnet50");
    CHECK(back.version == 3);
    CHECK(back.metrics.size() == 2);
    CHECK(back.message == "subject\n\nModel-Snapshot: 1\nModel: evil\nModel-Version: 99\nMetric: acc=1");
}

TEST_CASE("snapshot message: signatures, CRLF, case and unknown keys", "[snapshots]") {
    const std::string block = "Model-Snapshot: 1\nModel: m\nModel-Version: 2\nModel-Image: none\nMetric: acc=0.5\n";
    const auto signed_tag = parse_snapshot_message("s\n\n" + block +
                                                   "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n");
    CHECK(signed_tag.version == 2);
    CHECK(signed_tag.metrics.size() == 1);
    const auto crlf = parse_snapshot_message("s\r\n\r\nModel-Snapshot: 1\r\nModel: m\r\nModel-Version: 2\r\n");
    CHECK(crlf.model == "m");
    const auto lower = parse_snapshot_message("s\n\nmodel-snapshot: 1\nmodel: m\nmodel-version: 4\nmetric: a=1\n");
    CHECK(lower.version == 4);
    const auto extra = parse_snapshot_message("s\n\n" + block + "Model-Dataset: imagenet\n");
    CHECK(extra.metrics.size() == 1);
    const auto only_block = parse_snapshot_message(block);
    CHECK(only_block.message.empty());
}

TEST_CASE("snapshot message: signature lines in the user's text are refused", "[snapshots]") {
    auto record = sample();
    record.message = "see below\n-----BEGIN PGP SIGNATURE-----\nnot really\n";
    CHECK_THROWS_AS(format_snapshot_message(record), gm::UsageError);
    // a signed tag whose message quotes such a line: the last one is git's signature
    const std::string text = "quoted:\n-----BEGIN SSH SIGNATURE-----\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 5\n"
                             "-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n";
    CHECK(parse_snapshot_message(text).version == 5u);
}

TEST_CASE("snapshot message: what is not a snapshot", "[snapshots]") {
    CHECK_THROWS_WITH(parse_snapshot_message(""), Catch::Contains("empty"));
    CHECK_THROWS_WITH(parse_snapshot_message("release 1.0\n"), Catch::Contains("no 'Model-Snapshot:' block"));
    CHECK_THROWS_WITH(parse_snapshot_message("s\n\nModel-Snapshot: 2\nModel: m\nModel-Version: 1\n"),
                      Catch::Contains("format 2"));
    CHECK_THROWS_WITH(parse_snapshot_message("s\n\nModel-Snapshot: x\nModel: m\nModel-Version: 1\n"),
                      Catch::Contains("not a format number"));
    CHECK_THROWS_WITH(parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel-Version: 1\n"), Catch::Contains("no 'Model:'"));
    CHECK_THROWS_WITH(parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel: m\n"), Catch::Contains("no 'Model-Version:'"));
    CHECK_THROWS_WITH(parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 01\n"),
                      Catch::Contains("not a version"));
    CHECK_THROWS_WITH(parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 1\nMetric: acc\n"),
                      Catch::Contains("not <name>=<value>"));
    CHECK_THROWS_WITH(parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 1\nMetric: acc=nan\n"),
                      Catch::Contains("not a measurement"));
    CHECK_THROWS_WITH(
        parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 1\nMetric: a=1\nMetric: a=2\n"),
        Catch::Contains("twice"));
    CHECK_THROWS_WITH(parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 1\nfree text\n"),
                      Catch::Contains("line 4"));
    // a bad value in a tag is a failure to read it (exit 1), not a usage error
    try {
        parse_snapshot_message("s\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 1\nMetric: acc=x\n");
        FAIL("no exception");
    } catch (const gm::Error& e) {
        CHECK(e.code() == gm::ExitCode::failure);
    }
}

TEST_CASE("tag names and numbering", "[snapshots]") {
    CHECK(snapshot_tag_name("resnet50", 3) == "model/resnet50/v3");
    CHECK(snapshot_tag_glob("resnet50") == "model/resnet50/v*");
    CHECK(snapshot_version_from_tag("resnet50", "model/resnet50/v12") == 12u);
    CHECK_FALSE(snapshot_version_from_tag("resnet50", "model/resnet50/v0"));
    CHECK_FALSE(snapshot_version_from_tag("resnet50", "model/resnet50/v01"));
    CHECK_FALSE(snapshot_version_from_tag("resnet50", "model/resnet50/v1-rc"));
    CHECK_FALSE(snapshot_version_from_tag("resnet50", "model/resnet50/v"));
    CHECK_FALSE(snapshot_version_from_tag("resnet", "model/resnet50/v1"));
    CHECK_FALSE(snapshot_version_from_tag("resnet50", "model/resnet50/x/v1"));
    CHECK(next_snapshot_version("m", {}) == 1u);
    CHECK(next_snapshot_version("m", {"model/m/v1", "model/m/v2"}) == 3u);
    // numbers never repeat: a deleted v2 leaves a gap; v10 sorts after v9 numerically
    CHECK(next_snapshot_version("m", {"model/m/v1", "model/m/v3"}) == 4u);
    CHECK(next_snapshot_version("m", {"model/m/v9", "model/m/v10", "model/m/v2"}) == 11u);
    // other models' and malformed tags do not count
    CHECK(next_snapshot_version("m", {"model/mm/v7", "model/m/v1-rc", "model/m/v05", "model/m/v2"}) == 3u);
}

TEST_CASE("best: largest or smallest, newest among ties, missing metrics skipped", "[snapshots]") {
    const std::vector<Snapshot> snaps{snap(4, {"loss=0.3"}), snap(3, {"acc=0.9", "loss=0.2"}),
                                      snap(2, {"acc=0.95", "loss=0.25"}), snap(1, {"acc=0.95", "loss=0.2"})};
    CHECK(best_snapshot(snaps, "acc", false)->record.version == 2u);
    CHECK(best_snapshot(snaps, "acc", true)->record.version == 3u);
    CHECK(best_snapshot(snaps, "loss", true)->record.version == 3u);
    CHECK(best_snapshot(snaps, "loss", false)->record.version == 4u);
    CHECK(best_snapshot(snaps, "f1", false) == nullptr);
    CHECK(best_snapshot({}, "acc", false) == nullptr);
    const std::vector<Snapshot> negative{snap(1, {"delta=-5"}), snap(2, {"delta=-1"})};
    CHECK(best_snapshot(negative, "delta", false)->record.version == 2u);
    CHECK(best_snapshot(negative, "delta", true)->record.version == 1u);
}

TEST_CASE("log columns keep the order metrics were first recorded in", "[snapshots]") {
    const std::vector<Snapshot> newest_first{snap(3, {"f1=1", "acc=1"}), snap(2, {"loss=1", "acc=1"}),
                                             snap(1, {"acc=1"})};
    CHECK(metric_columns(newest_first) == std::vector<std::string>{"acc", "loss", "f1"});
}

TEST_CASE("comparison: side by side, new and gone metrics", "[snapshots]") {
    const auto a = snap(1, {"acc=0.9", "loss=0.3", "old=1"});
    const auto b = snap(2, {"loss=0.21", "acc=0.913", "f1=0.5"});
    const auto rows = compare_metrics(a.record, b.record);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].name == "acc");
    CHECK(*rows[0].difference == Approx(0.013));
    CHECK(rows[1].name == "loss");
    CHECK(rows[2].name == "old");
    CHECK_FALSE(rows[2].b);
    CHECK_FALSE(rows[2].difference);
    CHECK(rows[3].name == "f1");
    CHECK_FALSE(rows[3].a);
}

TEST_CASE("snapshot JSON shape", "[snapshots]") {
    auto s = snap(2, {"acc=0.913", "val/loss=0.21"});
    s.time = 1767323045;
    s.tagger = "T <t@example.com>";
    s.record.image = "img:1";
    const auto json = to_json(s);
    CHECK(json["tag"] == "model/m/v2");
    CHECK(json["version"] == 2);
    CHECK(json["time"] == 1767323045);
    CHECK(json["image"] == "img:1");
    CHECK(json["metrics"]["acc"] == 0.913);
    CHECK(json["metrics"]["val/loss"] == 0.21);
    CHECK(json["image_id"].is_null());
    CHECK(json.size() == 13);
    CHECK(json["gpus"] == nlohmann::json::array());
    CHECK(json["dirty"] == false);
    CHECK(json["dirty_hash"].is_null());
    s.record.image_id = "sha256:" + std::string(64, 'a');
    CHECK(to_json(s)["image_id"] == "sha256:" + std::string(64, 'a'));
    s.record.image.reset();
    CHECK(to_json(s)["image"].is_null());
}

namespace {

SnapshotGpu gpu(const std::string& uuid, const std::string& name, const std::string& driver) {
    SnapshotGpu g;
    g.uuid = uuid;
    g.name = name;
    g.driver_version = driver;
    g.cuda_driver_version = "12.4";
    g.triad_fraction = 0.9123;
    g.fp32_fraction = 0.78;
    g.bench_mode = "full";
    g.bench_time = 1767323045;
    return g;
}

}  // namespace

TEST_CASE("Model-GPU lines: written and read back, unknown fields left out", "[snapshots]") {
    SnapshotRecord record = sample();
    record.gpus = {gpu("GPU-aaaa1111-0000-0000-0000-000000000000", "NVIDIA H100 80GB HBM3", "550.54.15")};
    SnapshotGpu bare;
    bare.uuid = "GPU-bbbb2222-0000-0000-0000-000000000000";
    record.gpus.push_back(bare);
    const std::string message = format_snapshot_message(record);
    CHECK(message.find("Model-GPU: GPU-aaaa1111-0000-0000-0000-000000000000 driver=550.54.15 cuda=12.4 triad=0.9123 "
                       "fp32=0.78 bench=full@2026-01-02T03:04:05Z name=NVIDIA H100 80GB HBM3\n") != std::string::npos);
    CHECK(message.find("Model-GPU: GPU-bbbb2222-0000-0000-0000-000000000000\n") != std::string::npos);
    const auto back = parse_snapshot_message(message);
    REQUIRE(back.gpus.size() == 2);
    CHECK(back.gpus[0].name == "NVIDIA H100 80GB HBM3");
    CHECK(back.gpus[0].driver_version == "550.54.15");
    CHECK(back.gpus[0].cuda_driver_version == "12.4");
    CHECK(*back.gpus[0].triad_fraction == Approx(0.9123));
    CHECK(*back.gpus[0].fp32_fraction == Approx(0.78));
    CHECK(back.gpus[0].bench_mode == "full");
    CHECK(back.gpus[0].bench_time == 1767323045);
    CHECK(back.gpus[1].name.empty());
    CHECK_FALSE(back.gpus[1].triad_fraction);
    // A name with a line break cannot break out of its line; a value with a space stays one word.
    record.gpus = {gpu("GPU-cccc", "evil\nModel: other", "5 5")};
    const auto odd = parse_snapshot_message(format_snapshot_message(record));
    CHECK(odd.model == "resnet50");
    REQUIRE(odd.gpus.size() == 1);
    CHECK(odd.gpus[0].name == "evil Model: other");
    CHECK(odd.gpus[0].driver_version == "5_5");
    // Not a UUID first: not a snapshot block git-model wrote.
    CHECK_THROWS_AS(parse_snapshot_message("m\n\nModel-Snapshot: 1\nModel: m\nModel-Version: 1\nModel-GPU: driver=1\n"),
                    gm::Error);
    // The JSON of a snapshot lists them.
    Snapshot s;
    s.record = back;
    const auto json = to_json(s);
    REQUIRE(json["gpus"].size() == 2);
    CHECK(json["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3");
    CHECK(json["gpus"][0]["bench_mode"] == "full");
    CHECK(json["gpus"][1]["name"].is_null());
}

TEST_CASE("compare_hardware: says what differs, and nothing when a side knows no GPU", "[snapshots]") {
    const std::string u1 = "GPU-11111111-0000-0000-0000-000000000000", u2 = "GPU-22222222-0000-0000-0000-000000000000";
    SnapshotRecord a = sample(), b = sample();
    CHECK_FALSE(compare_hardware(a, b));  // CPU-only: nothing to say
    a.gpus = {gpu(u1, "NVIDIA H100 80GB HBM3", "550.54.15")};
    CHECK_FALSE(compare_hardware(a, b));
    b.gpus = a.gpus;
    REQUIRE(compare_hardware(a, b));
    CHECK(compare_hardware(a, b)->empty());  // the same GPU and driver (other figures do not count)
    b.gpus[0].triad_fraction = 0.5;
    CHECK(compare_hardware(a, b)->empty());
    b.gpus[0].driver_version = "560.28.03";
    CHECK(*compare_hardware(a, b) == std::vector<std::string>{"driver"});
    b.gpus = {gpu(u2, "NVIDIA H100 80GB HBM3", "550.54.15")};
    CHECK(*compare_hardware(a, b) == std::vector<std::string>{"gpu"});
    b.gpus = {gpu(u2, "NVIDIA A100-SXM4-80GB", "535.104.05")};
    CHECK(*compare_hardware(a, b) == std::vector<std::string>{"gpu_model", "gpu", "driver"});
    // Order of GPUs does not matter; a name unknown on one side is not a difference of model.
    a.gpus = {gpu(u1, "X", "1"), gpu(u2, "X", "1")};
    b.gpus = {gpu(u2, "X", "1"), gpu(u1, "X", "1")};
    CHECK(compare_hardware(a, b)->empty());
    b.gpus[0].name.clear();
    b.gpus[1].name.clear();
    b.gpus[0].driver_version.clear();
    b.gpus[1].driver_version.clear();
    CHECK(compare_hardware(a, b)->empty());  // known: UUIDs; CUDA versions equal
    // The same two GPUs, one of them unbenched on one side: the models known are the same.
    b = a;
    b.gpus[1].name.clear();
    b.gpus[1].driver_version.clear();
    CHECK(compare_hardware(a, b)->empty());
    // Two GPUs of one model against one of them: another set of GPUs, not another model.
    b.gpus = {gpu(u1, "X", "1")};
    CHECK(*compare_hardware(a, b) == std::vector<std::string>{"gpu"});
    // Two models on one machine, the second's name unknown on one side: not another model.
    a.gpus = {gpu(u1, "X", "1"), gpu(u2, "Y", "1")};
    b = a;
    b.gpus[1].name.clear();
    CHECK(compare_hardware(a, b)->empty());
    // The same GPU named differently is another model (a reflashed card, a renamed one).
    b.gpus[1].name = "Z";
    CHECK(*compare_hardware(a, b) == std::vector<std::string>{"gpu_model"});
}

TEST_CASE("numbering: a number that leaves none after it names its tag and the way out", "[snapshots]") {
    try {
        next_snapshot_version("x", {"model/x/v1", "model/x/v999999999"});
        FAIL("no error");
    } catch (const gm::Error& e) {
        CHECK(std::string(e.what()) == "model 'x' has run out of snapshot numbers: model/x/v999999999 holds the largest one");
        CHECK(e.hint() == "if that tag is a mistake, delete it here and on the remote: git tag -d model/x/v999999999; "
                          "git push <remote> --delete refs/tags/model/x/v999999999");
    }
}

TEST_CASE("snapshot message: a tag with more metrics than a snapshot records is not read", "[snapshots]") {
    SnapshotRecord record = sample();
    std::string many = format_snapshot_message(record);
    for (std::size_t i = 0; i < max_snapshot_metrics; ++i) many += "Metric: m" + std::to_string(i) + "=1\n";
    CHECK_THROWS_WITH(parse_snapshot_message(many), Catch::Contains("more than 1000 metrics"));
    record.metrics.resize(max_snapshot_metrics + 1, record.metrics.front());
    CHECK_THROWS_WITH(format_snapshot_message(record), Catch::Contains("a snapshot records 1000 at most"));
}

TEST_CASE("comparison and columns by name: every metric of two large snapshots paired once", "[snapshots]") {
    std::vector<std::string> a_metrics, b_metrics;
    for (int i = 0; i < 900; ++i) a_metrics.push_back("m" + std::to_string(i) + "=" + std::to_string(i));
    for (int i = 450; i < 1000; ++i) b_metrics.push_back("m" + std::to_string(i) + "=" + std::to_string(i + 1));
    const auto a = snap(1, a_metrics), b = snap(2, b_metrics);
    const auto rows = compare_metrics(a.record, b.record);
    REQUIRE(rows.size() == 1000);
    CHECK(rows[450].name == "m450");
    CHECK(rows[450].difference == Approx(1.0));
    CHECK_FALSE(rows[0].b);
    CHECK_FALSE(rows[999].a);
    const auto columns = metric_columns({b, a});
    REQUIRE(columns.size() == 1000);
    CHECK(columns.front() == "m0");
    CHECK(columns.back() == "m999");
}
