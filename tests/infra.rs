//! Facts that cross from `infra/` (the Terraform that deploys a region) into
//! the code: the settings each module renders for a binary are ones that
//! binary accepts (the rendered file passes `--check-config`, which refuses
//! unknown keys and bad values), and every port a security group opens or a
//! load balancer forwards to is one a process listens on. `scripts/infra.sh`
//! checks the Terraform itself (format, load, security scan).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Block, Expression, Value};

/// Values of required variables and of the few template arguments that are
/// known only at apply time (a database's address, members' addresses):
/// what a deployment would give, for rendering here.
const APPLY_TIME: &[(&str, &str)] = &[
    ("region_name", "\"eu-west-1\""),
    ("public_hostname", "\"chat.example.com\""),
    (
        "zookeeper_connect",
        "\"10.10.0.10:2181,10.10.32.10:2181,10.10.64.10:2181\"",
    ),
    ("db_address", "\"chat.abc123.us-east-1.rds.amazonaws.com\""),
    ("db_name", "\"chat\""),
    ("db_user", "\"chat\""),
    (
        "members",
        "[\"10.10.0.10\", \"10.10.32.10\", \"10.10.64.10\"]",
    ),
    ("myid", "1"),
    (
        "zookeeper_release",
        "\"s3://chat-releases/apache-zookeeper-3.8.4-bin.tar.gz\"",
    ),
];

/// What the boot scripts fill in at start (`$${NAME}` in the templates).
const BOOT_TIME: &[(&str, &str)] = &[
    ("PRIVATE_IP", "10.20.0.7"),
    ("DB_PASSWORD", "n0tTheRealOne"),
    ("VAPID_PRIVATE_KEY", ""),
    ("FCM_FILE", ""),
    ("APNS_FILE", ""),
];

fn infra() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("infra")
}

/// Every top-level block of a module's `.tf` files.
fn module(name: &str) -> Vec<Block> {
    let dir = infra().join("modules").join(name);
    let mut blocks = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "tf"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a .tf file");
        let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        blocks.extend(body.into_blocks());
    }
    blocks
}

fn labels(block: &Block) -> Vec<&str> {
    block.labels().iter().map(|label| label.as_str()).collect()
}

fn attr<'a>(block: &'a Block, key: &str) -> Option<&'a Expression> {
    block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr())
}

fn apply_time(name: &str) -> Option<Value> {
    APPLY_TIME.iter().find(|(n, _)| *n == name).map(|(_, v)| {
        let body = hcl::parse(&format!("v = {v}")).expect("a sample");
        let expr = body.attributes().next().expect("v").expr().clone();
        expr.evaluate(&Context::new()).expect("a sample value")
    })
}

fn tonumber(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Number(n) => Ok(Value::Number(*n)),
        Value::String(s) => s
            .parse::<u64>()
            .map(Value::from)
            .map_err(|e| format!("tonumber({s}): {e}")),
        other => Err(format!("tonumber({other})")),
    }
}

fn split(args: FuncArgs) -> Result<Value, String> {
    let (Value::String(sep), Value::String(s)) = (&args[0], &args[1]) else {
        return Err("split(string, string)".into());
    };
    Ok(Value::Array(
        s.split(sep.as_str()).map(Value::from).collect(),
    ))
}

/// The module's `var` (defaults, or the apply-time samples) and what of its
/// `local`s evaluates from them, with the few functions those use.
fn context(blocks: &[Block]) -> Context<'static> {
    let mut ctx = Context::new();
    ctx.declare_func(
        "tonumber",
        FuncDef::new(
            tonumber,
            [ParamType::OneOf(vec![ParamType::Number, ParamType::String])],
        ),
    );
    ctx.declare_func(
        "split",
        FuncDef::new(split, [ParamType::String, ParamType::String]),
    );
    let mut vars = hcl::Map::new();
    for block in blocks.iter().filter(|b| b.identifier() == "variable") {
        let name = labels(block)[0];
        // Required variables without a sample stay out: what uses them does
        // not evaluate, and a template argument that does asks for a sample.
        let value = match attr(block, "default") {
            Some(expr) => Some(expr.evaluate(&Context::new()).expect("a literal default")),
            None => apply_time(name),
        };
        if let Some(value) = value {
            vars.insert(name.to_owned(), value);
        }
    }
    ctx.declare_var("var", Value::Object(vars));
    // Locals may use each other: evaluate what can be, until nothing more can.
    let mut locals = hcl::Map::new();
    loop {
        let before = locals.len();
        for block in blocks.iter().filter(|b| b.identifier() == "locals") {
            for a in block.body().attributes() {
                if !locals.contains_key(a.key())
                    && let Ok(value) = a.expr().evaluate(&ctx)
                {
                    locals.insert(a.key().to_owned(), value);
                }
            }
        }
        ctx.declare_var("local", Value::Object(locals.clone()));
        if locals.len() == before {
            return ctx;
        }
    }
}

/// The call `templatefile(".../templates/{file}", {…})` in the module, and
/// its rendering: each argument evaluated, or its apply-time sample.
fn render(blocks: &[Block], file: &str) -> String {
    let ctx = context(blocks);
    let call = blocks
        .iter()
        .flat_map(|b| b.body().attributes().map(|a| a.expr().clone()))
        .chain(blocks.iter().flat_map(|b| {
            b.body()
                .blocks()
                .flat_map(|inner| inner.body().attributes().map(|a| a.expr().clone()))
                .collect::<Vec<_>>()
        }))
        .find_map(|expr| match expr {
            Expression::FuncCall(call)
                if call.name.name.as_str() == "templatefile"
                    && format!("{}", call.args[0]).contains(file) =>
            {
                Some(call)
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no templatefile(…{file}, …) in the module"));
    let Some(Expression::Object(args)) = call.args.get(1) else {
        panic!("templatefile(…{file}, …) takes an object literal");
    };
    let mut template_ctx = Context::new();
    for (key, expr) in args.iter() {
        let name = key.to_string();
        let value = match expr.evaluate(&ctx) {
            Ok(value) => value,
            Err(_) => apply_time(&name).unwrap_or_else(|| {
                panic!("{file}: argument {name} = {expr} is known at apply time only: give it a value in APPLY_TIME")
            }),
        };
        template_ctx.declare_var(name, value);
    }
    let path = blocks_dir(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let template: hcl::Template = text.parse().unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut rendered = template
        .evaluate(&template_ctx)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    for (name, value) in BOOT_TIME {
        rendered = rendered.replace(&format!("${{{name}}}"), value);
    }
    rendered
}

fn blocks_dir(file: &str) -> PathBuf {
    let modules = infra().join("modules");
    for module in std::fs::read_dir(&modules).expect("infra/modules") {
        let path = module
            .expect("a module")
            .path()
            .join("templates")
            .join(file);
        if path.is_file() {
            return path;
        }
    }
    panic!("no infra/modules/*/templates/{file}");
}

/// `KEY=VALUE` lines of a rendered environment file.
fn env_file(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not KEY=VALUE: {line}"));
        assert!(key.starts_with("CHAT_"), "{key} is not a CHAT_ setting");
        assert!(
            !value.contains("${"),
            "{key}={value}: a placeholder left unfilled"
        );
        assert!(
            vars.insert(key.to_owned(), value.to_owned()).is_none(),
            "{key} twice"
        );
    }
    vars
}

fn check_config(bin: &str, vars: &BTreeMap<String, String>) -> (bool, String) {
    let out = Command::new(bin)
        .arg("--check-config")
        .env_clear()
        .envs(vars)
        .output()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn core_env() -> BTreeMap<String, String> {
    env_file(&render(&module("core"), "chat-core.env.tftpl"))
}

fn edge_env() -> BTreeMap<String, String> {
    env_file(&render(&module("region"), "chat-edge.env.tftpl"))
}

#[test]
fn every_setting_the_modules_give_is_one_the_binaries_accept() {
    for (bin, vars) in [
        (env!("CARGO_BIN_EXE_chat-core"), core_env()),
        (env!("CARGO_BIN_EXE_chat-edge"), edge_env()),
    ] {
        let (ok, out) = check_config(bin, &vars);
        assert!(
            ok,
            "{bin} refuses the settings infra/ gives it: {out}\n{vars:#?}"
        );
        assert!(out.contains("the configuration is valid"), "{out}");
    }
    // The check can fail: a setting renamed in the code but not in infra/.
    let mut vars = edge_env();
    let value = vars
        .remove("CHAT_EDGE__MAX_CONNECTIONS")
        .expect("the edge's capacity");
    vars.insert("CHAT_EDGE__MAX_CONECTIONS".into(), value);
    let (ok, out) = check_config(env!("CARGO_BIN_EXE_chat-edge"), &vars);
    assert!(!ok, "a misspelt setting passed: {out}");
    assert!(
        out.contains("max_conections"),
        "the error names the key: {out}"
    );
    // And a value out of range.
    let mut vars = edge_env();
    vars.insert("CHAT_EDGE__IDLE_TIMEOUT_MS".into(), "1".into());
    let (ok, out) = check_config(env!("CARGO_BIN_EXE_chat-edge"), &vars);
    assert!(!ok, "an idle timeout below the heartbeat passed: {out}");
}

/// A port something listens on: (protocol, port).
type Port = (&'static str, u16);

fn port_of(addr: &str) -> u16 {
    let port = addr.rsplit(':').next().expect("host:port");
    port.trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or_else(|e| panic!("{addr}: {e}"))
}

/// What the edge listens on: CHAT_LISTEN (TCP), and WebTransport on UDP at
/// its own address or, by default, the same port.
fn edge_ports() -> BTreeSet<Port> {
    let env = edge_env();
    let http = port_of(&env["CHAT_LISTEN"]);
    let udp = env
        .get("CHAT_EDGE__WEBTRANSPORT__LISTEN")
        .map_or(http, |addr| port_of(addr));
    BTreeSet::from([("tcp", http), ("udp", udp)])
}

/// What the core's side listens on: the core (gRPC, admin), ZooKeeper (its
/// client, quorum and election ports, from the members' configuration), and
/// PostgreSQL (the port in the core's database URL).
fn core_side_ports() -> BTreeSet<Port> {
    let env = core_env();
    let mut ports = BTreeSet::from([
        ("tcp", port_of(&env["CHAT_LISTEN"])),
        ("tcp", port_of(&env["CHAT_ADMIN__LISTEN"])),
    ]);
    let url = &env["CHAT_POSTGRES__URL"];
    let host_port = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next());
    ports.insert((
        "tcp",
        port_of(host_port.expect("postgres://user:pw@host:port/db")),
    ));
    let zoo = render(&module("core"), "zookeeper-boot.sh.tftpl");
    for line in zoo.lines() {
        if let Some(port) = line.strip_prefix("clientPort=") {
            ports.insert(("tcp", port.parse().expect("clientPort")));
        }
        if line.starts_with("server.") {
            let mut parts = line.rsplit(':');
            ports.insert((
                "tcp",
                parts
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("election port"),
            ));
            ports.insert((
                "tcp",
                parts
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("quorum port"),
            ));
        }
    }
    ports
}

/// The ports the module's rules open: (resource name, protocol, port), for
/// ingress rules and for egress rules that stay inside the deployment (to
/// a security group or a private network, not the internet).
fn rules(blocks: &[Block]) -> Vec<(String, String, u16)> {
    let ctx = context(blocks);
    let mut found = Vec::new();
    for block in blocks.iter().filter(|b| b.identifier() == "resource") {
        let [kind, name] = labels(block)[..] else {
            continue;
        };
        if kind != "aws_vpc_security_group_ingress_rule"
            && kind != "aws_vpc_security_group_egress_rule"
        {
            continue;
        }
        let internet =
            attr(block, "cidr_ipv4").is_some_and(|e| e.to_string().contains("0.0.0.0/0"));
        if kind.ends_with("egress_rule") && internet {
            continue;
        }
        let eval = |key: &str| attr(block, key).and_then(|e| e.evaluate(&ctx).ok());
        let protocol = eval("ip_protocol").and_then(|v| v.as_str().map(str::to_owned));
        let (Some(protocol), Some(from), Some(to)) = (protocol, eval("from_port"), eval("to_port"))
        else {
            panic!("{kind}.{name}: protocol and ports do not evaluate from the module's variables");
        };
        let (from, to) = (from.as_u64().expect("a port"), to.as_u64().expect("a port"));
        assert_eq!(
            from, to,
            "{kind}.{name} opens a range {from}-{to}: name the one port"
        );
        found.push((
            format!("{kind}.{name}"),
            protocol,
            u16::try_from(from).expect("a port"),
        ));
    }
    assert!(!found.is_empty(), "no rules found");
    found
}

#[test]
fn every_port_a_security_group_opens_is_one_a_process_listens_on() {
    let (edge, core) = (edge_ports(), core_side_ports());
    for (name, protocol, port) in rules(&module("core")) {
        assert!(
            core.iter().any(|(p, n)| *p == protocol && *n == port),
            "infra/modules/core: {name} opens {protocol} {port}, where nothing listens (listening: {core:?})"
        );
    }
    // The edges' rules: clients in, and out to the core's side.
    let reachable: BTreeSet<Port> = edge.union(&core).copied().collect();
    for (name, protocol, port) in rules(&module("region")) {
        assert!(
            reachable.iter().any(|(p, n)| *p == protocol && *n == port),
            "infra/modules/region: {name} opens {protocol} {port}, where nothing listens (listening: {reachable:?})"
        );
    }
}

#[test]
fn the_load_balancer_forwards_to_the_edge_ports_and_announces_the_udp_one() {
    let blocks = module("region");
    let ctx = context(&blocks);
    let edge = edge_ports();
    let mut target_groups = 0;
    for block in blocks.iter().filter(|b| b.identifier() == "resource") {
        let [kind, name] = labels(block)[..] else {
            continue;
        };
        let eval = |key: &str| attr(block, key).and_then(|e| e.evaluate(&ctx).ok());
        match kind {
            "aws_lb_target_group" => {
                target_groups += 1;
                let protocol = eval("protocol").and_then(|v| v.as_str().map(str::to_lowercase));
                let port = eval("port").and_then(|v| v.as_u64());
                let (Some(protocol), Some(port)) = (protocol, port) else {
                    panic!("target group {name}: protocol and port must evaluate");
                };
                let port = u16::try_from(port).expect("a port");
                assert!(
                    edge.contains(&(if protocol == "udp" { "udp" } else { "tcp" }, port)),
                    "target group {name} forwards to {protocol} {port}, where the edge does not listen ({edge:?})"
                );
            }
            // The edge tells clients its UDP port (GET /webtransport/cert-hash,
            // Alt-Svc), and clients come to that port on the load balancer.
            "aws_lb_listener"
                if eval("protocol")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .as_deref()
                    == Some("UDP") =>
            {
                let port = eval("port").and_then(|v| v.as_u64()).expect("a port");
                let udp = edge
                    .iter()
                    .find(|(p, _)| *p == "udp")
                    .expect("a UDP port")
                    .1;
                assert_eq!(
                    port,
                    u64::from(udp),
                    "listener {name}: clients are told port {udp}"
                );
            }
            _ => {}
        }
    }
    assert_eq!(target_groups, 2, "a TCP and a UDP target group");
}
