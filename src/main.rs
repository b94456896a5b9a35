#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() {
    use clap::Parser;
    use tidings::cli::{Cli, Command};
    use tracing_subscriber::EnvFilter;

    let cli = Cli::parse();
    // Before the logger reads RUST_LOG and TIDINGS_LOG_FORMAT: they may be in .env too.
    // A missing .env is normal (the environment alone is then used); a broken one is not:
    // dotenv stops at the bad line, and every setting after it would silently be ignored.
    if let Err(error) = dotenvy::dotenv() {
        if !error.not_found() {
            eprintln!("tidings: configuration error: .env: {error}");
            std::process::exit(2);
        }
    }

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Human-readable by default; one JSON object a line (fields such as campaign and
    // instance as keys) for log collectors.
    // The server logs to standard output (what service managers collect); a command such
    // as `tidings keys list` logs to standard error, so its output stays what it prints.
    let serving = matches!(cli.command, None | Some(Command::Serve));
    let writer = move || -> Box<dyn std::io::Write> {
        if serving {
            Box::new(std::io::stdout())
        } else {
            Box::new(std::io::stderr())
        }
    };
    match std::env::var("TIDINGS_LOG_FORMAT").as_deref().map(str::trim) {
        Err(_) | Ok("" | "text") => tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).init(),
        Ok("json") => tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(writer).init(),
        Ok(other) => {
            eprintln!("tidings: configuration error: TIDINGS_LOG_FORMAT must be text or json, got {other:?}");
            std::process::exit(2);
        }
    }

    let config = match tidings::config::Config::from_env() {
        Ok(config) => config,
        Err(errors) => {
            for error in errors {
                eprintln!("tidings: configuration error: {error}");
            }
            std::process::exit(2);
        }
    };
    let names: Vec<String> = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()).collect();
    for (name, closest) in tidings::config::unknown_variables(names.iter().map(String::as_str)) {
        match closest {
            Some(known) => tracing::warn!("{name} is not a Tidings setting (did you mean {known}?); it is ignored"),
            None => tracing::warn!("{name} is not a Tidings setting; it is ignored"),
        }
    }
    match cli.command {
        None | Some(Command::Serve) => serve(config).await,
        Some(command) => match tidings::cli::run(command, &config).await {
            Ok(said) => println!("{said}"),
            Err(failure) => {
                eprintln!("tidings: {}", failure.message);
                std::process::exit(failure.exit_code());
            }
        },
    }
}

#[cfg(feature = "ssr")]
async fn serve(config: tidings::config::Config) {
    let public_url = config.public_url.trim_end_matches('/').to_owned();
    let mut server = match tidings::server::start(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("tidings: could not start: {error}");
            std::process::exit(1);
        }
    };
    println!("Tidings is running on http://{}", server.addr);
    println!("  public page: {public_url}/");
    println!("  admin:       {public_url}/admin");
    // SIGTERM is how service managers and orchestrators stop us; Ctrl-C in a terminal.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        result = &mut server.serve => {
            if let Ok(Err(error)) = result {
                eprintln!("tidings: server error: {error}");
                std::process::exit(1);
            }
        }
        _ = tokio::signal::ctrl_c() => println!("tidings: stopping"),
        _ = terminate.recv() => println!("tidings: stopping"),
    }
    server.stop().await;
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser build has no binary; its entry point is `hydrate()` in lib.rs.
}
