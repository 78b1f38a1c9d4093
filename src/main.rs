use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mimalloc::MiMalloc;
use rocket::fairing::AdHoc;
use tally::Settings;

// glibc's malloc was 7% of Tally's CPU under the benchmark's load.
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

/// Tally, a personal-finance REST API.
#[derive(Parser)]
#[command(name = "tally", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default); serves Lambda events when AWS_LAMBDA_RUNTIME_API is set.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document and exit (no database needed).
    Openapi,
}

// ANCHOR: main
fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        println!("{}", tally::openapi_json());
        return ExitCode::SUCCESS;
    }
    if let Command::Migrate = command {
        return match tally::config::database_from_env() {
            Ok(figment) => {
                tally::telemetry::init_logging(figment.profile() == "release");
                rocket::execute(migrate(figment))
            }
            Err(e) => {
                eprintln!("tally: {e}");
                ExitCode::from(2)
            }
        };
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("tally: {e}");
            return ExitCode::from(2);
        }
    };
    tally::telemetry::init_logging(settings.release);
    if settings.lambda {
        serve_lambda(settings)
    } else {
        rocket::execute(serve(settings))
    }
}
// ANCHOR_END: main

// ANCHOR: serve_lambda
/// lambda_http's future is not `Send`, so it runs on a plain current-thread
/// runtime rather than under `rocket::execute`.
fn serve_lambda(settings: Settings) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tally: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tally::lambda::run(tally::rocket(settings))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tally: lambda: {e}");
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: serve_lambda

async fn migrate(figment: rocket::figment::Figment) -> ExitCode {
    let pool = match tally::db::connect(&figment).await {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("tally: {e}");
            return ExitCode::FAILURE;
        }
    };
    match pool.migrate().await {
        Ok(()) => {
            tracing::info!(backend = pool.backend(), "migrations applied");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tally: DATABASE_URL: migrations failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> ExitCode {
    let rocket = tally::rocket(settings).attach(AdHoc::on_liftoff("Docs", |rocket| {
        Box::pin(async move {
            let config = rocket.config();
            let base = format!("http://{}:{}", config.address, config.port);
            tracing::info!("Tally is listening on {base}");
            tracing::info!(
                "API docs: {base}/swagger-ui/ and {base}/rapidoc/ (spec at {base}/openapi.json)"
            );
        })
    }));
    match rocket.launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tally: could not start: {e}");
            ExitCode::FAILURE
        }
    }
}
