//! Printing a page to a PDF file with no dialog, through the web engine's own print path, so
//! the file is laid out exactly as "Print" would lay it out (the print stylesheet applies).
use std::path::Path;
use std::time::Duration;

/// How long the engine may take to lay out and write the file.
const PRINT_TIMEOUT: Duration = Duration::from_secs(60);

/// Print what `webview` shows to a PDF at `path`.
#[cfg(target_os = "linux")]
pub async fn page_to_pdf<R: tauri::Runtime>(
    webview: &tauri::Webview<R>,
    path: &Path,
) -> Result<(), String> {
    use std::sync::{mpsc, Arc, Mutex};
    use webkit2gtk::PrintOperationExt;

    let uri = url::Url::from_file_path(path)
        .map_err(|()| format!("{} is not a file path", path.display()))?
        .to_string();
    /// The one answer the operation gives: taken by whichever signal comes first.
    type Answer = Arc<Mutex<Option<mpsc::Sender<Result<(), String>>>>>;
    let (tx, rx) = mpsc::channel::<Result<(), String>>();
    let tx: Answer = Arc::new(Mutex::new(Some(tx)));
    let answer = move |tx: &Answer, r: Result<(), String>| {
        if let Some(t) = tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.send(r);
        }
    };
    webview
        .with_webview(move |platform| {
            let operation = webkit2gtk::PrintOperation::new(&platform.inner());
            let settings = gtk::PrintSettings::new();
            // GTK's own file printer, present wherever GTK is: no print system needed.
            settings.set_printer("Print to File");
            settings.set(gtk::PRINT_SETTINGS_OUTPUT_FILE_FORMAT, Some("pdf"));
            settings.set(gtk::PRINT_SETTINGS_OUTPUT_URI, Some(&uri));
            operation.set_print_settings(&settings);
            let done = tx.clone();
            operation.connect_finished(move |_| answer(&done, Ok(())));
            let failed = tx.clone();
            operation.connect_failed(move |_, e| answer(&failed, Err(e.to_string())));
            operation.print();
        })
        .map_err(|e| e.to_string())?;
    let outcome = tauri::async_runtime::spawn_blocking(move || rx.recv_timeout(PRINT_TIMEOUT))
        .await
        .map_err(|e| e.to_string())?;
    match outcome {
        Ok(Ok(())) if path.exists() => Ok(()),
        Ok(Ok(())) => Err("the print finished but wrote no file".into()),
        Ok(Err(e)) => Err(format!("could not save the PDF: {e}")),
        Err(_) => Err("saving the PDF took too long".into()),
    }
}

/// Elsewhere the system's print dialog (with its own "Save as PDF") is the way.
#[cfg(not(target_os = "linux"))]
pub async fn page_to_pdf<R: tauri::Runtime>(
    _webview: &tauri::Webview<R>,
    _path: &Path,
) -> Result<(), String> {
    Err("saving a PDF directly is not available here: use Print, then Save as PDF".into())
}
